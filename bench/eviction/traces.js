// The shared traces and the cache sizes each is evaluated at (../shared/traces/README.md): 0.1%, 1%
// and 10% of its unique keys, or 10%, 50% and 90% for traces with fewer than 5,000 unique keys.
'use strict';
const { existsSync, readdirSync } = require('node:fs');
const { basename, join, resolve } = require('node:path');

const LARGE_SHARES = [0.001, 0.01, 0.1];
const SMALL_SHARES = [0.1, 0.5, 0.9];
const SMALL_TRACE = 5_000;
/** The four traces the module was first measured on come first, then the rest by name. */
const FIRST = ['oltp', 'p3', 'scarab-recs', 'orm-busy'];

/** Cache sizes (entries) for a trace of `uniqueKeys` distinct keys, as the traces' README prescribes. */
function sizesFor(uniqueKeys) {
  const shares = uniqueKeys < SMALL_TRACE ? SMALL_SHARES : LARGE_SHARES;
  return shares.map((s) => Math.max(1, Math.round(uniqueKeys * s)));
}

/**
 * Cells reported besides the three sizes: OLTP at 2,000 entries, where Caffeine's simulator
 * publishes LRU, its hill climber and the best fixed window (its adaptive-window design notes).
 */
const EXTRA_SIZES = { oltp: [2000] };

function traceDirectory() {
  const candidates = [process.env.TRACES_DIR, resolve(__dirname, '../../../shared/traces'), resolve(__dirname, '../../../../shared/traces'), '/work/shared/traces'];
  const dir = candidates.find((d) => d !== undefined && existsSync(d));
  if (dir === undefined) throw new Error('no trace directory: pass --trace <file.keys.gz> or set TRACES_DIR');
  return dir;
}

const traceName = (file) => basename(file).replace(/\.keys\.gz$/, '').replace(/\.gz$/, '');

/** Every `*.keys.gz` in the trace directory, the original four first. */
function defaultTraces() {
  const dir = traceDirectory();
  const rank = (f) => {
    const i = FIRST.indexOf(traceName(f));
    return i === -1 ? FIRST.length : i;
  };
  return readdirSync(dir).filter((f) => f.endsWith('.keys.gz')).map((f) => join(dir, f)).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

module.exports = { EXTRA_SIZES, sizesFor, defaultTraces, traceName, traceDirectory };
