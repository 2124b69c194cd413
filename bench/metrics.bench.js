// npm run bench:metrics — what observability costs on the memory hit path, side by side in one process:
//   a. CacheNamespace.get hit: everything off (baseline) / metrics on / tracing on without an SDK /
//      metrics + tracing (the defaults) — interleaved rounds, medians
//   b. getOrSet hit: everything off (baseline) / the defaults
//   c. with an OpenTelemetry SDK registered (BasicTracerProvider + NoopSpanProcessor): get hit, for reference
//   d. one scrape of the registry (registry.metrics()) with the demo-sized 3 namespaces
// Ratios: metricsOnVsOff (metrics on, tracing off vs all off; >= 0.95), defaultsVsOff (metrics + tracing
// without an SDK vs all off), tracingNoSdkVsOff, getOrSetDefaultsVsOff, sdkTracingVsOff (informative).
'use strict';
require('reflect-metadata');
const { measure, median, spread, ratioOfRounds, formatOps, printTable, writeResults } = require('./harness');

const KEYS = 10_000;
const keys = Array.from({ length: KEYS }, (_, i) => `user:${i}:top-tracks`);
const value = (i) => ({ id: i, topTracks: ['t1', 't2', 't3'] });
const order = new Uint32Array(1 << 20);
let seed = 42;
for (let i = 0; i < order.length; i++) {
  seed = (seed * 1664525 + 1013904223) >>> 0;
  order[i] = seed % KEYS;
}

/** A loop compiled per task, so that each configuration gets its own call site. */
function asyncLoop(get) {
  return new Function('get', 'keys', 'order', `
    return async function run(n) {
      let hits = 0;
      for (let i = 0; i < n; i++) if ((await get(keys[order[i & 1048575]])) !== undefined) hits++;
      if (hits !== n) throw new Error('expected every read to hit');
    };`)(get, keys, order);
}

async function app(lib, NestFactory, observability) {
  const ctx = await NestFactory.createApplicationContext(
    lib.CacheModule.forRoot({ defaults: { maxEntries: KEYS }, namespaces: { users: {}, tracks: {} }, observability }),
    { logger: false },
  );
  const ns = ctx.get(lib.CacheService).namespace('users');
  for (let i = 0; i < KEYS; i++) await ns.set(keys[i], value(i));
  return { ctx, ns };
}

async function main() {
  const lib = require('../libs/cache');
  const { NestFactory } = require('@nestjs/core');
  const { Registry } = require('prom-client');
  const registry = new Registry();
  const off = await app(lib, NestFactory, { metrics: false, tracing: false });
  const metricsOnly = await app(lib, NestFactory, { metrics: true, tracing: false, registry });
  const tracingOnly = await app(lib, NestFactory, { metrics: false, tracing: true });
  const defaults = await app(lib, NestFactory, { registry });
  const loader = () => ({ never: 'called' });

  const getTasks = [
    { name: 'get hit, metrics off, tracing off (baseline)', run: asyncLoop((k) => off.ns.get(k)) },
    { name: 'get hit, metrics on, tracing off', run: asyncLoop((k) => metricsOnly.ns.get(k)) },
    { name: 'get hit, metrics off, tracing on (no SDK)', run: asyncLoop((k) => tracingOnly.ns.get(k)) },
    { name: 'get hit, defaults: metrics on, tracing on (no SDK)', run: asyncLoop((k) => defaults.ns.get(k)) },
  ];
  const getOrSetTasks = [
    { name: 'getOrSet hit, all off (baseline)', run: asyncLoop((k) => off.ns.getOrSet(k, loader)) },
    { name: 'getOrSet hit, defaults', run: asyncLoop((k) => defaults.ns.getOrSet(k, loader)) },
  ];
  const getResults = await measure(getTasks);
  const getOrSetResults = await measure(getOrSetTasks);

  // c. An SDK registered: every operation becomes a recorded span (dropped by a NoopSpanProcessor).
  const { trace } = require('@opentelemetry/api');
  const { BasicTracerProvider, NoopSpanProcessor } = require('@opentelemetry/sdk-trace-base');
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new NoopSpanProcessor()] }));
  for (let i = 0; i < 2048; i++) await defaults.ns.get(keys[i]); // past the tracer's re-check interval
  const sdkTasks = [
    { name: 'get hit, all off (baseline)', run: asyncLoop((k) => off.ns.get(k)) },
    { name: 'get hit, defaults, SDK registered (recording spans)', run: asyncLoop((k) => defaults.ns.get(k)) },
  ];
  const sdkResults = await measure(sdkTasks, { rounds: 5 });
  trace.disable();

  // d. Scrape cost.
  const scrapes = [];
  for (let i = 0; i < 50; i++) {
    const t0 = process.hrtime.bigint();
    await registry.metrics();
    scrapes.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const scrapeMs = median(scrapes);

  for (const a of [off, metricsOnly, tracingOnly, defaults]) await a.ctx.close();

  const rows = [];
  const table = (title, tasks, results) => {
    const base = results[0];
    const lines = tasks.map((t, i) => {
      const ops = median(results[i]);
      const row = { section: title, task: t.name, opsPerSec: ops, nsPerOp: 1e9 / ops, spread: spread(results[i]), vsBaseline: ratioOfRounds(results[i], base) };
      rows.push(row);
      return [t.name, formatOps(ops), row.nsPerOp.toFixed(1), `±${(row.spread * 100).toFixed(0)}%`, `${row.vsBaseline.toFixed(3)}×`];
    });
    printTable(title, ['task', 'ops/s (median)', 'ns/op', 'spread', 'vs baseline'], lines);
  };
  table('a. memory get hit (10k keys, random order)', getTasks, getResults);
  table('b. memory getOrSet hit', getOrSetTasks, getOrSetResults);
  table('c. with an OpenTelemetry SDK registered', sdkTasks, sdkResults);
  console.log(`\nd. registry.metrics() scrape (3 namespaces, metrics + histograms): ${scrapeMs.toFixed(3)} ms (median of 50)`);
  rows.push({ section: 'd', task: 'scrape', ms: scrapeMs });

  const ratios = {
    metricsOnVsOff: ratioOfRounds(getResults[1], getResults[0]),
    tracingNoSdkVsOff: ratioOfRounds(getResults[2], getResults[0]),
    defaultsVsOff: ratioOfRounds(getResults[3], getResults[0]),
    getOrSetDefaultsVsOff: ratioOfRounds(getOrSetResults[1], getOrSetResults[0]),
    sdkTracingVsOff: ratioOfRounds(sdkResults[1], sdkResults[0]),
  };
  printTable('ratios (metricsOnVsOff target >= 0.95)', ['ratio', 'value'], Object.entries(ratios).map(([k, v]) => [k, v.toFixed(3)]));
  writeResults('metrics', rows, ratios);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
