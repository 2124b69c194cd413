// The benches' shared workload and measuring code: keys and their random order, hit loops compiled
// per task, the 1 KB value, closed-loop load at concurrency c, interleaved rounds, medians, spreads,
// per-round ratios, percentiles, tables, and bench/results/<name>.json. Servers: test/support/redis-server.js.
'use strict';
const { execFileSync } = require('node:child_process');
const { writeFileSync, mkdirSync } = require('node:fs');
const { join } = require('node:path');

const gc = global.gc ?? (() => undefined);
const now = () => Number(process.hrtime.bigint()) / 1e9;

// ---- workload -------------------------------------------------------------------------------

/** Length of a random access order: loops index it with `i & ORDER_MASK`. */
const ORDER_LENGTH = 1 << 20;

/** A random order over `keyCount` keys (LCG from `seed`), so every task reads the same keys in the same order. */
function randomOrder(keyCount, seed = 42) {
  const order = new Uint32Array(ORDER_LENGTH);
  let s = seed;
  for (let i = 0; i < order.length; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    order[i] = s % keyCount;
  }
  return order;
}

/**
 * `run(n)`: `n` synchronous gets that must all hit, compiled per task so that each library gets its
 * own monomorphic call site. Keys in `order` (see `randomOrder`), or in turn without one.
 */
function syncLoop(get, keys, order) {
  return new Function('get', 'keys', 'order', `
    return function run(n) {
      let hits = 0;
      for (let i = 0; i < n; i++) if (get(${keyAt(keys, order)}) !== undefined) hits++;
      if (hits !== n) throw new Error('expected every read to hit');
    };`)(get, keys, order);
}

/** `syncLoop`, each get awaited. */
function asyncLoop(get, keys, order) {
  return new Function('get', 'keys', 'order', `
    return async function run(n) {
      let hits = 0;
      for (let i = 0; i < n; i++) if ((await get(${keyAt(keys, order)})) !== undefined) hits++;
      if (hits !== n) throw new Error('expected every read to hit');
    };`)(get, keys, order);
}

const keyAt = (keys, order) => (order === undefined ? `keys[i % ${keys.length}]` : `keys[order[i & ${ORDER_LENGTH - 1}]]`);

/** `run(n)`: `n` gets spread over `concurrency` workers, each awaiting its own get in a loop (count-bounded). */
function concurrentLoop(get, keys, concurrency) {
  return new Function('get', 'keys', 'concurrency', `
    return async function run(n) {
      let next = 0;
      let hits = 0;
      const worker = async () => {
        while (next < n) {
          const i = next++;
          if ((await get(keys[(i * 7919) % keys.length])) !== undefined) hits++;
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
      if (hits !== n) throw new Error('expected every read to hit (' + hits + ' of ' + n + ')');
    };`)(get, keys, concurrency);
}

/**
 * The Redis benches' load: 1000 keys `track:<i>` of 1 KB values, read at concurrency 64 in 7
 * interleaved rounds of 0.8 s.
 */
const REDIS_LOAD = Object.freeze({
  keys: Array.from({ length: 1000 }, (_, i) => `track:${i}`),
  concurrency: 64,
  rounds: 7,
  roundSeconds: 0.8,
});

/** A JSON object of 1 KB (1024 bytes serialized). */
function value1k(i) {
  const v = { id: i, title: `Track ${i}`, artists: ['a', 'b'], tags: [], payload: '' };
  v.payload = 'x'.repeat(1024 - JSON.stringify(v).length);
  return v;
}

/** Runs `script` in a fresh node process (with `--expose-gc` and `nodeArgs`); parses what it writes to stdout as JSON. */
function inFreshProcess(script, nodeArgs = []) {
  return JSON.parse(execFileSync(process.execPath, ['--expose-gc', ...nodeArgs, '-e', script], { encoding: 'utf8' }));
}

// ---- measuring: batches of n calls ----------------------------------------------------------

/** Runs `task.run(n)` (sync or async) until it takes about `seconds`; returns n. */
async function calibrate(task, seconds) {
  let n = 1000;
  for (;;) {
    const t0 = now();
    await task.run(n);
    const dt = now() - t0;
    if (dt >= seconds || n >= 1e9) return Math.max(1000, Math.round((n * seconds) / Math.max(dt, 1e-6)));
    n *= dt < seconds / 10 ? 10 : 2;
  }
}

/**
 * Interleaved rounds: every round runs each task once (batch of ~batchSeconds), starting from a
 * different task each round, with a GC before every batch. Returns ops/s per task per round.
 */
async function measure(tasks, { rounds = 7, batchSeconds = 0.2, maxSeconds = 60 } = {}) {
  const sizes = [];
  for (const task of tasks) {
    await task.run(await calibrate(task, batchSeconds / 4)); // warm-up
    sizes.push(await calibrate(task, batchSeconds));
  }
  const results = tasks.map(() => []);
  const deadline = now() + maxSeconds;
  for (let r = 0; r < rounds && now() < deadline; r++) {
    for (let j = 0; j < tasks.length; j++) {
      const i = (j + r) % tasks.length;
      gc();
      const t0 = now();
      await tasks[i].run(sizes[i]);
      results[i].push(sizes[i] / (now() - t0));
    }
  }
  return results;
}

// ---- measuring: closed-loop load for a time -------------------------------------------------

/**
 * `concurrency` workers, each awaiting one `get` at a time, for `seconds` (closed loop); returns
 * ops/s. Every read must hit; latencies (ms) are pushed to `latencies`.
 */
async function closedLoop(get, keys, concurrency, seconds, latencies) {
  let ops = 0;
  const end = performance.now() + seconds * 1000;
  const worker = async (w) => {
    let i = w * 97;
    while (performance.now() < end) {
      const t0 = performance.now();
      const v = await get(keys[i++ % keys.length]);
      latencies.push(performance.now() - t0);
      if (v === undefined || v === null) throw new Error('expected a hit');
      ops++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  return ops / ((performance.now() - t0) / 1000);
}

/**
 * Interleaved closed-loop rounds: a warm-up per client, then `rounds` rounds in which every client
 * runs once, starting from a different client each round, with a GC before each. Returns ops/s per
 * client per round, and a bounded sample of latencies per client.
 */
async function interleavedRounds(clients, keys, { concurrency, rounds, seconds, warmupSeconds = 0.5 }) {
  const results = clients.map(() => []);
  const lat = clients.map(() => []);
  for (const c of clients) await closedLoop(c.get, keys, concurrency, warmupSeconds, []);
  for (let r = 0; r < rounds; r++) {
    for (let j = 0; j < clients.length; j++) {
      const i = (j + r) % clients.length;
      gc();
      const sample = [];
      results[i].push(await closedLoop(clients[i].get, keys, concurrency, seconds, sample));
      for (let k = 0; k < sample.length; k += Math.ceil(sample.length / 5000)) lat[i].push(sample[k]);
    }
  }
  return { results, lat };
}

// ---- statistics -----------------------------------------------------------------------------

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const spread = (xs) => (Math.max(...xs) - Math.min(...xs)) / 2 / median(xs);
/** Median of the per-round ratios a[i] / b[i]. */
const ratioOfRounds = (a, b) => median(a.map((x, i) => x / b[i]));

function percentile(xs, p) {
  if (xs.length === 0) return NaN;
  const s = Float64Array.from(xs).sort();
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
}

/** Per client of `interleavedRounds`: median ops/s, spread, ratio to the `baseline` client, p50 and p99 in µs. */
function loadFigures(results, lat, baseline) {
  return results.map((rounds, i) => ({
    opsPerSec: median(rounds), spread: spread(rounds), vsBaseline: ratioOfRounds(rounds, results[baseline]),
    p50us: percentile(lat[i], 0.5) * 1000, p99us: percentile(lat[i], 0.99) * 1000,
  }));
}

// ---- output ---------------------------------------------------------------------------------

function formatOps(x) {
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)} k`;
  return x.toFixed(0);
}

const formatSpread = (s) => `±${(s * 100).toFixed(0)}%`;

/** A table row of `loadFigures`: name, ops/s, spread, ratio (×), p50 µs, p99 µs. */
const loadRow = (name, f) => [name, formatOps(f.opsPerSec), formatSpread(f.spread), `${f.vsBaseline.toFixed(2)}×`, f.p50us.toFixed(0), f.p99us.toFixed(0)];

function printTable(title, headers, rows) {
  console.log(`\n${title}\n`);
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => '| ' + cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ') + ' |';
  console.log(line(headers));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const row of rows) console.log(line(row));
}

function writeResults(name, rows, ratios) {
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ name, node: process.version, date: new Date().toISOString(), rows, ratios }, null, 2));
  console.log(`\nwrote ${file}`);
}

/** Runs a bench's `main`, then exits (open handles of peers must not keep it alive); a failure exits 1. */
function runBench(main) {
  main().then(() => process.exit(0), (error) => {
    console.error(error);
    process.exit(1);
  });
}

module.exports = {
  randomOrder, syncLoop, asyncLoop, concurrentLoop, REDIS_LOAD, value1k, inFreshProcess,
  measure, closedLoop, interleavedRounds,
  median, spread, ratioOfRounds, percentile, loadFigures,
  formatOps, formatSpread, loadRow, printTable, writeResults, runBench, gc,
};
