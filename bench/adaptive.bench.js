// npm run bench:adaptive — the cost of the adaptive eviction strategy against LRU in the same backend:
//   a. MemoryBackend.get with LruStrategy vs AdaptiveStrategy (10k keys, all hits, random order), and
//      the same at 200 keys, where every access is replayed through the strategy's experts (shown, no target)
//   b. bytes per entry at 1M entries: MemoryBackend with each strategy (each in a fresh child process)
// Ratios: adaptiveGetVsLru (throughput, target >= 0.5), adaptiveBytesVsLru (target <= 1.5).
'use strict';
const { execFileSync } = require('node:child_process');
const { measure, median, spread, ratioOfRounds, formatOps, printTable, writeResults } = require('./harness');

const KEYS = 10_000;
/** A small cache is simulated whole by the adaptive strategy's experts: every access pays for them. */
const SMALL = 200;
const keys = Array.from({ length: KEYS }, (_, i) => `user:${i}:top-tracks`);
const randomOrder = (n) => {
  const order = new Uint32Array(1 << 20);
  let seed = 42;
  for (let i = 0; i < order.length; i++) {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    order[i] = seed % n;
  }
  return order;
};
const order = randomOrder(KEYS);
const smallOrder = randomOrder(SMALL);

/** A loop compiled per task, so that each strategy gets its own monomorphic call site. */
function syncLoop(get, order) {
  return new Function('get', 'keys', 'order', `
    return function run(n) {
      let hits = 0;
      for (let i = 0; i < n; i++) if (get(keys[order[i & 1048575]]) !== undefined) hits++;
      if (hits !== n) throw new Error('expected every read to hit');
    };`)(get, keys, order);
}

function hitPath() {
  const lib = require('../libs/cache');
  const make = (strategy, n) => {
    const backend = new lib.MemoryBackend({ maxEntries: n, strategy });
    for (let i = 0; i < n; i++) backend.set(keys[i], { id: i }, 0, 64);
    return backend;
  };
  const lru = make(new lib.LruStrategy(), KEYS);
  const adaptive = make(new lib.AdaptiveStrategy(), KEYS);
  const smallLru = make(new lib.LruStrategy(), SMALL);
  const smallAdaptive = make(new lib.AdaptiveStrategy(), SMALL);
  return [
    { name: 'MemoryBackend.get, LruStrategy (baseline)', run: syncLoop((k) => lru.get(k), order) },
    { name: 'MemoryBackend.get, AdaptiveStrategy', run: syncLoop((k) => adaptive.get(k), order) },
    { name: `MemoryBackend.get, LruStrategy, ${SMALL} keys`, run: syncLoop((k) => smallLru.get(k), smallOrder) },
    { name: `MemoryBackend.get, AdaptiveStrategy, ${SMALL} keys (every access through the experts)`, run: syncLoop((k) => smallAdaptive.get(k), smallOrder) },
  ];
}

/** Structure bytes per entry at 1M entries, in a fresh process per strategy. */
function footprint(strategy) {
  const script = `
    const N = 1_000_000;
    const keys = new Array(N), values = new Array(N);
    for (let i = 0; i < N; i++) { keys[i] = 'key:' + i; values[i] = { id: i }; }
    const lib = require(${JSON.stringify(require.resolve('../libs/cache'))});
    gc(); gc();
    const before = process.memoryUsage();
    const store = new lib.MemoryBackend({ maxEntries: N, strategy: new lib.${strategy}() });
    for (let i = 0; i < N; i++) store.set(keys[i], values[i], 0, 24);
    gc(); gc();
    const after = process.memoryUsage();
    if (store.stats().entries !== N) throw new Error('not full');
    const heap = (after.heapUsed - before.heapUsed) / N;
    const buffers = (after.arrayBuffers - before.arrayBuffers) / N;
    process.stdout.write(JSON.stringify({ heap, buffers, total: heap + buffers }));
  `;
  return JSON.parse(execFileSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8' }));
}

async function main() {
  const started = Date.now();
  const tasks = hitPath();
  const results = await measure(tasks, { rounds: 9 });
  const rows = [];
  const hitRows = tasks.map((t, i) => {
    const ops = median(results[i]);
    const ratio = ratioOfRounds(results[i], results[i < 2 ? 0 : 2]);
    rows.push({ scenario: 'hit', task: t.name, opsPerSec: ops, nsPerOp: 1e9 / ops, spread: spread(results[i]), ratio });
    return [t.name, formatOps(ops), (1e9 / ops).toFixed(1), `±${(spread(results[i]) * 100).toFixed(0)}%`, `${ratio.toFixed(2)}x`];
  });
  printTable('a. Memory hit path (random order, every read a hit; 10k keys, then 200 keys against LRU at 200 keys)', ['task', 'ops/s', 'ns/op', 'spread', 'vs LRU'], hitRows);

  const strategies = ['LruStrategy', 'AdaptiveStrategy'];
  const sizes = Object.fromEntries(strategies.map((s) => [s, footprint(s)]));
  const memRows = strategies.map((s) => {
    const m = sizes[s];
    const ratio = m.total / sizes.LruStrategy.total;
    rows.push({ scenario: 'bytes', task: `MemoryBackend + ${s}`, heapBytesPerEntry: m.heap, arrayBufferBytesPerEntry: m.buffers, bytesPerEntry: m.total, ratio });
    return [`MemoryBackend + ${s}`, m.heap.toFixed(1), m.buffers.toFixed(1), m.total.toFixed(1), `${ratio.toFixed(2)}x`];
  });
  printTable('b. Structure bytes per entry, 1M entries (key "key:<i>", value {id:i}), fresh process each', ['structure', 'heap B', 'ArrayBuffer B', 'total B', 'vs LRU'], memRows);

  const ratios = {
    adaptiveGetVsLru: ratioOfRounds(results[1], results[0]),
    adaptiveBytesVsLru: sizes.AdaptiveStrategy.total / sizes.LruStrategy.total,
  };
  printTable('Ratios (targets: adaptiveGetVsLru >= 0.5, adaptiveBytesVsLru <= 1.5)', ['ratio', 'value'], Object.entries(ratios).map(([k, v]) => [k, v.toFixed(2)]));
  console.log(`\nNode ${process.version}, ${((Date.now() - started) / 1000).toFixed(0)} s`);
  writeResults('adaptive', rows, ratios);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
