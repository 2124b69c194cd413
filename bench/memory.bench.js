// npm run bench:memory — the memory hit path and footprint, side by side with the peers:
//   a. MemoryBackend.get vs lru-cache get (sync, 10k keys, random access)
//   b. CacheService.get (through a Nest app context) vs cache-manager 7 + Keyv in-memory get
//   c. bytes per entry at 1M entries: MemoryBackend vs lru-cache (each in a fresh child process)
// Ratios: backendGetVsLruCache (>= 0.8), serviceGetVsCacheManager (>= 4), bytesPerEntryVsLruCache (<= 1.25).
'use strict';
require('reflect-metadata');
const { LRUCache } = require('lru-cache');
const {
  randomOrder, syncLoop, asyncLoop, inFreshProcess, measure, median, spread, ratioOfRounds, formatOps, formatSpread, printTable, writeResults, runBench,
} = require('./harness');

const KEYS = 10_000;
const keys = Array.from({ length: KEYS }, (_, i) => `user:${i}:top-tracks`);
const value = (i) => ({ id: i, topTracks: ['t1', 't2', 't3'] });
const order = randomOrder(KEYS, 42);

async function hitPath() {
  const lib = require('../libs/cache');
  const { NestFactory } = require('@nestjs/core');
  const { createCache } = require('cache-manager');

  const lru = new LRUCache({ max: KEYS });
  const backend = new lib.MemoryBackend({ maxEntries: KEYS });
  for (let i = 0; i < KEYS; i++) {
    lru.set(keys[i], value(i));
    backend.set(keys[i], value(i), 0, 64);
  }

  const app = await NestFactory.createApplicationContext(lib.CacheModule.forRoot({ defaults: { maxEntries: KEYS } }), { logger: false, abortOnError: false });
  const service = app.get(lib.CacheService);
  const manager = createCache();
  for (let i = 0; i < KEYS; i++) {
    await service.set(keys[i], value(i));
    await manager.set(keys[i], value(i));
  }

  const syncTasks = [
    { name: 'lru-cache get (baseline)', run: syncLoop((k) => lru.get(k), keys, order) },
    { name: 'MemoryBackend.get', run: syncLoop((k) => backend.get(k), keys, order) },
  ];
  const asyncTasks = [
    { name: 'cache-manager 7 + Keyv memory get (baseline)', run: asyncLoop((k) => manager.get(k), keys, order) },
    { name: 'CacheService.get', run: asyncLoop((k) => service.get(k), keys, order) },
    { name: '[ref] await lru-cache get in an async function', run: asyncLoop(async (k) => lru.get(k), keys, order) },
  ];
  const syncResults = await measure(syncTasks);
  const asyncResults = await measure(asyncTasks);
  await app.close();
  return { syncTasks, syncResults, asyncTasks, asyncResults };
}

/** Structure bytes per entry at 1M entries, measured in a fresh process per structure. */
function footprint(kind) {
  const script = `
    require('reflect-metadata');
    const N = 1_000_000;
    const keys = new Array(N), values = new Array(N);
    for (let i = 0; i < N; i++) { keys[i] = 'key:' + i; values[i] = { id: i }; }
    // Modules loaded before the first reading: their code and state are not the structure's.
    const { LRUCache } = require('lru-cache');
    const { MemoryBackend } = require(${JSON.stringify(require.resolve('../libs/cache'))});
    gc(); gc();
    const before = process.memoryUsage();
    let store;
    if (${JSON.stringify(kind)}.startsWith('lru-cache')) {
      const ttl = ${JSON.stringify(kind)}.endsWith('ttl');
      store = new LRUCache(ttl ? { max: N, ttl: 3600000 } : { max: N });
      for (let i = 0; i < N; i++) store.set(keys[i], values[i]);
    } else {
      const ttl = ${JSON.stringify(kind)}.endsWith('ttl') ? 3600000 : 0;
      store = new MemoryBackend({ maxEntries: N });
      for (let i = 0; i < N; i++) store.set(keys[i], values[i], ttl, 24);
    }
    gc(); gc();
    const after = process.memoryUsage();
    if (store.size === 0) throw new Error('empty');
    const heap = (after.heapUsed - before.heapUsed) / N;
    const buffers = (after.arrayBuffers - before.arrayBuffers) / N;
    process.stdout.write(JSON.stringify({ heap, buffers, total: heap + buffers }));
  `;
  return inFreshProcess(script);
}

async function main() {
  const started = Date.now();
  const { syncTasks, syncResults, asyncTasks, asyncResults } = await hitPath();
  const rows = [];
  const hitRows = (tasks, results) =>
    tasks.map((t, i) => {
      const ops = median(results[i]);
      const ratio = ratioOfRounds(results[i], results[0]);
      rows.push({ scenario: 'hit', task: t.name, opsPerSec: ops, nsPerOp: 1e9 / ops, spread: spread(results[i]), ratio });
      return [t.name, formatOps(ops), (1e9 / ops).toFixed(1), formatSpread(spread(results[i])), `${ratio.toFixed(2)}x`];
    });
  printTable('a. Memory hit path, synchronous (10k keys, random order)', ['task', 'ops/s', 'ns/op', 'spread', 'vs lru-cache'], hitRows(syncTasks, syncResults));
  printTable('b. Service hit path, awaited (10k keys, random order)', ['task', 'ops/s', 'ns/op', 'spread', 'vs cache-manager'], hitRows(asyncTasks, asyncResults));

  const kinds = ['lru-cache', 'MemoryBackend', 'lru-cache ttl', 'MemoryBackend ttl'];
  const sizes = Object.fromEntries(kinds.map((k) => [k, footprint(k)]));
  const memRows = kinds.map((k) => {
    const s = sizes[k];
    const base = sizes[k.endsWith('ttl') ? 'lru-cache ttl' : 'lru-cache'].total;
    rows.push({ scenario: 'bytes', task: k, heapBytesPerEntry: s.heap, arrayBufferBytesPerEntry: s.buffers, bytesPerEntry: s.total, ratio: s.total / base });
    return [k, s.heap.toFixed(1), s.buffers.toFixed(1), s.total.toFixed(1), `${(s.total / base).toFixed(2)}x`];
  });
  printTable('c. Structure bytes per entry, 1M entries (key "key:<i>", value {id:i}), fresh process each', ['structure', 'heap B', 'ArrayBuffer B', 'total B', 'vs lru-cache (same ttl)'], memRows);

  const ratios = {
    backendGetVsLruCache: ratioOfRounds(syncResults[1], syncResults[0]),
    serviceGetVsCacheManager: ratioOfRounds(asyncResults[1], asyncResults[0]),
    bytesPerEntryVsLruCache: sizes.MemoryBackend.total / sizes['lru-cache'].total,
  };
  printTable('Ratios (targets: backendGetVsLruCache >= 0.8, serviceGetVsCacheManager >= 4, bytesPerEntryVsLruCache <= 1.25)',
    ['ratio', 'value'], Object.entries(ratios).map(([k, v]) => [k, v.toFixed(2)]));
  console.log(`\nNode ${process.version}, ${((Date.now() - started) / 1000).toFixed(0)} s`);
  writeResults('memory', rows, ratios);
}

runBench(main);
