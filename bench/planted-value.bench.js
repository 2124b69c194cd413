// node --expose-gc bench/planted-value.bench.js (after `npm run build:lib`) — what reading a value
// planted in Redis by someone else costs, when it is far over the namespace's `maxValueBytes`
// (1 MiB by default): a 60 MB string written with a plain client under a namespace's key.
// Each read runs in a fresh child process (so its peak RSS is its own) against a private
// redis-server, and reports: what the call answered, the bytes Redis sent (INFO total_net_output_bytes),
// the process's peak RSS growth, the time, and whether the planted value is still stored.
// Also: the cost of the bounded read on normal 1 KB entries, in Redis time per read (commandstats).
'use strict';
require('reflect-metadata');
const { fork } = require('node:child_process');
const { startRedisServer } = require('../test/support/redis-server');
const { printTable, runBench } = require('./harness');

const PLANTED_BYTES = 60 * 1024 * 1024;
const SCENARIOS = ['raw ioredis GET (reference)', 'namespace get', 'namespace mget (planted + 3 normal)', 'namespace getOrSet', 'tiered namespace get', 'encrypted namespace get'];
const MB = 1024 * 1024;

const field = (info, name) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)[1]);

async function child(url, scenario) {
  const Redis = require('ioredis');
  const lib = require('../libs/cache');
  const { NestFactory } = require('@nestjs/core');
  const app = await NestFactory.createApplicationContext(lib.CacheModule.forRoot({
    redis: { url },
    bus: { secret: require('node:crypto').randomBytes(32).toString('base64') },
    namespaces: {
      plain: { backend: 'redis' },
      tiered: { backend: 'redis', l1: { maxEntries: 100 } },
      sealed: { backend: 'redis', encryption: { keys: [{ id: 'k1', key: require('node:crypto').randomBytes(32).toString('base64') }] } },
    },
  }), { logger: false, abortOnError: false });
  const cache = app.get(lib.CacheService);
  const admin = new Redis(url);
  const name = scenario === 'tiered namespace get' ? 'tiered' : scenario === 'encrypted namespace get' ? 'sealed' : 'plain';
  const ns = cache.namespace(name);
  for (const k of ['a', 'b', 'c']) await ns.set(k, { k, pad: 'x'.repeat(1000) });
  // The planted value was written by the parent (a plain client) under `cache:{<namespace>}:big`.
  const raw = new Redis(url);
  await raw.ping();
  global.gc?.();
  await admin.config('RESETSTAT');
  const before = await admin.info();
  const rssBefore = process.resourceUsage().maxRSS * 1024;
  const started = performance.now();
  let answer;
  if (scenario === 'raw ioredis GET (reference)') answer = await raw.get(`cache:{${name}}:big`);
  else if (scenario === 'namespace mget (planted + 3 normal)') answer = await ns.mget(['big', 'a', 'b', 'c']);
  else if (scenario === 'namespace getOrSet') answer = await ns.getOrSet('big', () => 'loaded');
  else answer = await ns.get('big');
  const ms = performance.now() - started;
  const rssGrowth = process.resourceUsage().maxRSS * 1024 - rssBefore;
  const after = await admin.info();
  const describe = (v) => (typeof v === 'string' ? `${v.length > 64 ? `${(v.length / MB).toFixed(0)} MB string` : JSON.stringify(v)}` : v === undefined ? 'undefined (miss)' : Array.isArray(v) ? `[${v.map(describe).join(', ')}]` : 'object');
  const result = {
    scenario,
    answered: describe(answer),
    redisSentMB: (field(after, 'total_net_output_bytes') - field(before, 'total_net_output_bytes')) / MB,
    processPeakRssGrowthMB: rssGrowth / MB,
    ms,
    stillStored: (await admin.strlen(`cache:{${name}}:big`)) >= PLANTED_BYTES,
    unreadableDropped: ns.stats().unreadableDropped,
  };
  raw.disconnect();
  admin.disconnect();
  await app.close();
  return result;
}

/** Redis CPU per read of normal 1 KB entries: a 64-key batch and a single get, by the namespace vs plain MGET/GET. */
async function normalReadCost(url) {
  const Redis = require('ioredis');
  const lib = require('../libs/cache');
  const { NestFactory } = require('@nestjs/core');
  const app = await NestFactory.createApplicationContext(lib.CacheModule.forRoot({ redis: { url }, namespaces: { plain: { backend: 'redis' } } }), { logger: false, abortOnError: false });
  const ns = app.get(lib.CacheService).namespace('plain');
  const admin = new Redis(url);
  const keys = Array.from({ length: 64 }, (_, i) => `k${i}`);
  for (const k of keys) await ns.set(k, { k, pad: 'x'.repeat(1000) });
  // Redis time of the commands a read sends (not those a script runs, which its own time includes).
  const SENT = new Set(['get', 'getrange', 'mget', 'eval', 'evalsha']);
  const usPerCall = async (run, n) => {
    await admin.config('RESETSTAT');
    for (let i = 0; i < n; i++) await run();
    let usec = 0;
    for (const m of (await admin.info('commandstats')).matchAll(/^cmdstat_(\w+):calls=\d+,usec=(\d+)/gm)) {
      if (SENT.has(m[1])) usec += Number(m[2]);
    }
    return usec / n;
  };
  const full = keys.map((k) => `cache:{plain}:${k}`);
  const rows = [
    ['64 gets in one tick (one batch)', await usPerCall(() => Promise.all(keys.map((k) => ns.get(k))), 2000), await usPerCall(() => admin.mget(full), 2000)],
    ['one get', await usPerCall(() => ns.get('k1'), 5000), await usPerCall(() => admin.get(full[1]), 5000)],
  ];
  admin.disconnect();
  await app.close();
  return rows;
}

async function main() {
  if (process.argv[2] === '--child') {
    const result = await child(process.argv[3], process.argv[4]);
    process.send(result);
    return;
  }
  const server = await startRedisServer();
  const Redis = require('ioredis');
  const planter = new Redis(server.url);
  // A valid payload of the tagged-JSON serializer (a JSON string), so that only its size is wrong.
  const planted = JSON.stringify('x'.repeat(PLANTED_BYTES - 2));
  const rows = [];
  for (const scenario of SCENARIOS) {
    for (const name of ['plain', 'tiered', 'sealed']) await planter.set(`cache:{${name}}:big`, planted);
    const result = await new Promise((resolve, reject) => {
      const proc = fork(__filename, ['--child', server.url, scenario], { execArgv: ['--expose-gc'] });
      proc.once('message', resolve);
      proc.once('exit', (code) => code !== 0 && reject(new Error(`${scenario}: child exited with ${code}`)));
    });
    rows.push([result.scenario, result.answered, result.redisSentMB.toFixed(2), result.processPeakRssGrowthMB.toFixed(0), result.ms.toFixed(0), result.stillStored ? 'yes' : 'no', result.unreadableDropped ?? '–']);
  }
  printTable(`Reading a ${PLANTED_BYTES / MB} MB value planted under a namespace key (maxValueBytes 1 MiB)`,
    ['read', 'answered', 'Redis sent MB', 'process peak RSS +MB', 'ms', 'still stored', 'unreadableDropped'], rows);
  planter.disconnect();
  const costs = await normalReadCost(server.url);
  printTable('Redis time per read of normal 1 KB entries (commandstats µs, 2000–5000 reads)',
    ['read', 'namespace µs', 'plain MGET/GET µs'], costs.map(([what, ours, plain]) => [what, ours.toFixed(1), plain.toFixed(1)]));
  await server.stop();
}

runBench(main);
