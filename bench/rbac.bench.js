// npm run bench:rbac — what RBAC costs on the memory hit path (the worst case: no I/O to hide it):
//   CacheNamespace.get on an open namespace, with RBAC on, and with RBAC on a user-scoped namespace,
//   all awaited inside one principal scope (runAs), beside cache-manager 7 + Keyv memory as the peer.
// Ratios: rbacGetVsOpen, scopedGetVsOpen (throughput, 1 = free), rbacGetVsCacheManager.
'use strict';
require('reflect-metadata');
const { randomOrder, asyncLoop, measure, median, spread, ratioOfRounds, formatOps, formatSpread, printTable, writeResults, runBench } = require('./harness');

const KEYS = 10_000;
const keys = Array.from({ length: KEYS }, (_, i) => `user:${i}:top-tracks`);
const order = randomOrder(KEYS, 7);

async function main() {
  const started = Date.now();
  const lib = require('../libs/cache');
  const { NestFactory } = require('@nestjs/core');
  const { createCache } = require('cache-manager');
  const roles = { member: { hot: ['read', 'write'] } };
  const make = async (options) => {
    const app = await NestFactory.createApplicationContext(lib.CacheModule.forRoot({ defaults: { maxEntries: KEYS }, ...options }), { logger: false, abortOnError: false });
    return { app, ns: app.get(lib.CacheService).namespace('hot'), access: app.get(lib.CacheAccessControl) };
  };
  const open = await make({ namespaces: { hot: {} } });
  const rbac = await make({ namespaces: { hot: {} }, rbac: { enabled: true, roles }, audit: { enabled: false } });
  const scoped = await make({ namespaces: { hot: { scope: 'user' } }, rbac: { enabled: true, roles }, audit: { enabled: false } });
  const manager = createCache();
  const principal = { id: 'u1', roles: ['member'] };
  for (const s of [open, rbac, scoped]) await s.access.runAs(principal, async () => { for (let i = 0; i < KEYS; i++) await s.ns.set(keys[i], { id: i }); });
  for (let i = 0; i < KEYS; i++) await manager.set(keys[i], { id: i });

  const inScope = (s) => {
    const loop = asyncLoop((k) => s.ns.get(k), keys, order);
    return (n) => s.access.runAs(principal, () => loop(n));
  };
  const tasks = [
    { name: 'CacheNamespace.get, open (baseline)', run: inScope(open) },
    { name: 'CacheNamespace.get, RBAC on', run: inScope(rbac) },
    { name: 'CacheNamespace.get, RBAC on, scope: user', run: inScope(scoped) },
    { name: 'cache-manager 7 + Keyv memory get', run: asyncLoop((k) => manager.get(k), keys, order) },
  ];
  const results = await measure(tasks);
  for (const s of [open, rbac, scoped]) await s.app.close();

  const rows = tasks.map((t, i) => ({ task: t.name, opsPerSec: median(results[i]), nsPerOp: 1e9 / median(results[i]), spread: spread(results[i]), ratio: ratioOfRounds(results[i], results[0]) }));
  printTable('Memory hit path, awaited, inside a principal scope (10k keys, random order)', ['task', 'ops/s', 'ns/op', 'spread', 'vs open'],
    rows.map((r) => [r.task, formatOps(r.opsPerSec), r.nsPerOp.toFixed(1), formatSpread(r.spread), `${r.ratio.toFixed(2)}x`]));
  const ratios = {
    rbacGetVsOpen: ratioOfRounds(results[1], results[0]),
    scopedGetVsOpen: ratioOfRounds(results[2], results[0]),
    rbacGetVsCacheManager: ratioOfRounds(results[1], results[3]),
  };
  printTable('Ratios (throughput; 1.00 = RBAC costs nothing)', ['ratio', 'value'], Object.entries(ratios).map(([k, v]) => [k, v.toFixed(2)]));
  console.log(`\nNode ${process.version}, ${((Date.now() - started) / 1000).toFixed(0)} s`);
  writeResults('rbac', rows, ratios);
}

runBench(main);
