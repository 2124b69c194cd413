// npm run bench:eviction [-- --trace <file.keys.gz> --sizes <n,n,n> --json <out.json> --policies a,b]
// Replays real access traces through every policy at several cache sizes and prints the hit ratio
// (hits / all accesses, compulsory misses included) and the gap closed, (HR − HR_LRU) / (HR_OPT − HR_LRU).
// Without --trace: every *.keys.gz in ../shared/traces (or $TRACES_DIR) at 0.1%, 1% and 10% of its
// unique keys, writing bench/results/eviction.json. A simulation, not a test: hit ratios only.
'use strict';
const { existsSync, readdirSync, writeFileSync } = require('node:fs');
const { basename, join, resolve } = require('node:path');
const { printTable, writeResults } = require('./harness');
const { readTrace } = require('./eviction/read-trace');
const { POLICIES } = require('./eviction/policies');

const SIZE_SHARES = [0.001, 0.01, 0.1];

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (!['--trace', '--sizes', '--json', '--policies'].includes(flag)) throw new Error(`unknown argument ${flag}`);
    if (value === undefined || value.startsWith('--')) throw new Error(`${flag} needs a value`);
    args[flag.slice(2)] = value;
    i++;
  }
  if (args.sizes !== undefined) {
    args.sizes = args.sizes.split(',').map((s) => Number(s.trim()));
    if (args.sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('--sizes must be positive integers, e.g. 100,1000,10000');
    if (args.trace === undefined) throw new Error('--sizes needs --trace (without it each trace gets 0.1%, 1%, 10% of its unique keys)');
  }
  args.policies = args.policies === undefined ? Object.keys(POLICIES) : args.policies.split(',');
  for (const p of args.policies) if (!(p in POLICIES)) throw new Error(`unknown policy ${p} (known: ${Object.keys(POLICIES).join(', ')})`);
  for (const needed of ['opt', 'lru']) if (!args.policies.includes(needed)) args.policies.unshift(needed); // gap closed needs both
  return args;
}

function defaultTraces() {
  const dir = process.env.TRACES_DIR ?? [resolve(__dirname, '../../shared/traces'), resolve(__dirname, '../../../shared/traces'), '/work/shared/traces'].find(existsSync);
  if (dir === undefined || !existsSync(dir)) throw new Error('no trace directory: pass --trace <file.keys.gz> or set TRACES_DIR');
  const order = ['oltp', 'p3', 'scarab-recs', 'orm-busy'];
  const rank = (f) => (order.indexOf(basename(f, '.keys.gz')) + order.length + 1) % (order.length + 1);
  return readdirSync(dir).filter((f) => f.endsWith('.keys.gz')).map((f) => join(dir, f)).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

const pct = (x) => (x * 100).toFixed(2);
const gapClosed = (hr, lru, opt) => (opt - lru > 1e-12 ? (hr - lru) / (opt - lru) : 0);

function simulate(file, sizesArg, policies) {
  const t0 = Date.now();
  const { ids, keys } = readTrace(file);
  const trace = basename(file).replace(/\.keys\.gz$/, '').replace(/\.gz$/, '');
  const sizes = sizesArg ?? SIZE_SHARES.map((s) => Math.max(1, Math.round(keys.length * s)));
  console.log(`\n${trace}: ${ids.length.toLocaleString('en')} accesses, ${keys.length.toLocaleString('en')} unique keys, max hit ratio ${pct((ids.length - keys.length) / ids.length)}% (read in ${Date.now() - t0} ms)`);
  const result = { trace, accesses: ids.length, uniqueKeys: keys.length, sizes: [] };
  for (const size of sizes) {
    const hitRatio = {};
    const states = {};
    const seconds = {};
    for (const p of policies) {
      const started = Date.now();
      const { hits, state } = POLICIES[p].hits(keys, ids, size);
      seconds[p] = (Date.now() - started) / 1000;
      hitRatio[p] = hits / ids.length;
      if (state !== undefined && p === 'adaptive') states[p] = state;
    }
    const gap = Object.fromEntries(policies.map((p) => [p, gapClosed(hitRatio[p], hitRatio.lru, hitRatio.opt)]));
    result.sizes.push({ size, hitRatio, gapClosed: gap, adaptiveState: states.adaptive });
    printTable(`${trace}, cache of ${size.toLocaleString('en')} entries`, ['policy', 'hit ratio %', 'gap closed', 'seconds'],
      policies.map((p) => [POLICIES[p].label, pct(hitRatio[p]), p === 'opt' ? '1' : gap[p].toFixed(3), seconds[p].toFixed(1)]));
    if (states.adaptive) console.log(`adaptive state at the end: ${JSON.stringify(states.adaptive)}`);
  }
  return result;
}

/** The JSON shape: `{ trace, sizes: [{ size, hitRatio: { opt, lru, … } }] }` (plus gap closed). */
const asJson = (r) => ({ trace: r.trace, accesses: r.accesses, uniqueKeys: r.uniqueKeys, sizes: r.sizes.map(({ size, hitRatio, gapClosed }) => ({ size, hitRatio, gapClosed })) });

function summary(results, policies) {
  const rows = [];
  for (const r of results) {
    for (const s of r.sizes) rows.push([r.trace, s.size.toLocaleString('en'), ...policies.map((p) => pct(s.hitRatio[p]))]);
  }
  printTable('Hit ratio % (all traces and sizes)', ['trace', 'size', ...policies], rows);
  const cells = results.flatMap((r) => r.sizes);
  const meanGap = Object.fromEntries(policies.filter((p) => p !== 'opt').map((p) => [p, cells.reduce((a, s) => a + s.gapClosed[p], 0) / cells.length]));
  printTable(`Mean gap closed over ${cells.length} trace × size cells (1 = OPT, 0 = LRU)`, ['policy', 'mean gap closed'],
    Object.entries(meanGap).map(([p, g]) => [POLICIES[p].label, g.toFixed(3)]));
  if (policies.includes('adaptive')) {
    const statics = ['lru', 'lfu'].filter((p) => policies.includes(p));
    const worst = Math.min(...cells.map((s) => s.hitRatio.adaptive - Math.max(...statics.map((p) => s.hitRatio[p]))));
    const peers = policies.filter((p) => POLICIES[p].kind === 'peer');
    console.log(`\nadaptive − max(${statics.join(', ')}): worst cell ${(worst * 100).toFixed(2)} points (target ≥ −0.50)`);
    if (peers.length > 0) {
      const best = peers.reduce((a, p) => (meanGap[p] > meanGap[a] ? p : a));
      console.log(`mean gap closed: adaptive ${meanGap.adaptive.toFixed(3)}, best peer ${best} ${meanGap[best].toFixed(3)} (target: adaptive higher)`);
    }
  }
  return meanGap;
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const files = args.trace !== undefined ? [args.trace] : defaultTraces();
  const results = files.map((f) => simulate(f, args.sizes, args.policies));
  const meanGap = summary(results, args.policies);
  if (args.json !== undefined) {
    const out = results.length === 1 ? asJson(results[0]) : results.map(asJson);
    writeFileSync(args.json, JSON.stringify(out, null, 2));
    console.log(`\nwrote ${args.json}`);
  }
  if (args.trace === undefined) {
    const ratios = Object.fromEntries(Object.entries(meanGap).map(([p, g]) => [`meanGapClosed_${p}`, g]));
    writeResults('eviction', results.map(asJson), ratios);
  }
  console.log(`\nNode ${process.version}, ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

try {
  main();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
