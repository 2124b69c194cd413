// Shared measuring loop for the benchmarks: interleaved rounds, medians, per-round ratios.
'use strict';
const { writeFileSync, mkdirSync } = require('node:fs');
const { join } = require('node:path');

const gc = global.gc ?? (() => undefined);
const now = () => Number(process.hrtime.bigint()) / 1e9;

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

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const spread = (xs) => (Math.max(...xs) - Math.min(...xs)) / 2 / median(xs);
/** Median of the per-round ratios a[i] / b[i]. */
const ratioOfRounds = (a, b) => median(a.map((x, i) => x / b[i]));

function formatOps(x) {
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)} k`;
  return x.toFixed(0);
}

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

module.exports = { measure, median, spread, ratioOfRounds, formatOps, printTable, writeResults, gc };
