// Quick look at a few cells while working on a strategy: node bench/eviction/quick.js
//   [--traces oltp,lirs-cs] [--strategy ./path.js:ExportName] [--label name] [--fresh]
// Runs `adaptive` (or the given strategy class, through MemoryBackend) on the chosen traces at their
// three sizes, and prints it beside OPT, LRU, LFU and the peers. Those fixed results are computed
// once and kept in bench/results/eviction-cells.json, so a re-run only replays the strategy.
'use strict';
const { existsSync, mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const { join, resolve } = require('node:path');
const { readTrace } = require('./read-trace');
const { POLICIES, throughMemoryBackend, replayTrace } = require('./policies');
const { EXTRA_SIZES, defaultTraces, sizesFor, traceName } = require('./traces');
const { measureAdaptation } = require('./adaptation');
const { PHASE_TRACES } = require('./phase-change');

const FIXED = ['opt', 'lru', 'lfu', 'transitory', 'sieve', 'lru-cache'];
const CACHE_FILE = join(__dirname, '..', 'results', 'eviction-cells.json');

function parseArgs(argv) {
  const args = { extra: true, traces: null, strategy: null, label: 'adaptive', fresh: false, phases: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--fresh') args.fresh = true;
    else if (flag === '--phases') args.phases = true;
    else if (flag === '--traces') args.traces = argv[++i].split(',');
    else if (flag === '--strategy') args.strategy = argv[++i];
    else if (flag === '--label') args.label = argv[++i];
    else throw new Error(`unknown argument ${flag}`);
  }
  return args;
}

function loadStrategy(spec) {
  if (spec === null) return POLICIES.adaptive;
  const [path, name] = spec.split(':');
  const Strategy = require(resolve(path))[name];
  return { open: throughMemoryBackend(() => new Strategy()) };
}

function phases(policy, label) {
  const references = { lru: POLICIES.lru, lfu: POLICIES.lfu, transitory: POLICIES.transitory, sieve: POLICIES.sieve };
  for (const name of Object.keys(PHASE_TRACES)) {
    for (const size of [100, 1000]) {
      for (const r of measureAdaptation(name, size, policy, references)) {
        const a = r.afterDeadline;
        const f = (x) => (x * 100).toFixed(1).padStart(5);
        console.log(`${name}@${size} ${r.phase.padEnd(12)} settle ${String(r.settleInCacheSizes ?? '-').padStart(3)} × C | after 10C: ${label} ${f(a.subject)} best ${f(r.bestReference)} (lru ${f(a.lru)} lfu ${f(a.lfu)} trans ${f(a.transitory)} sieve ${f(a.sieve)})${r.settleInCacheSizes !== null && r.settleInCacheSizes > 10 ? ' <<' : ''}`);
      }
    }
  }
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.phases) return phases(loadStrategy(args.strategy), args.label);
  const fixed = !args.fresh && existsSync(CACHE_FILE) ? JSON.parse(readFileSync(CACHE_FILE, 'utf8')) : {};
  const policy = loadStrategy(args.strategy);
  const files = defaultTraces().filter((f) => args.traces === null || args.traces.includes(traceName(f)));
  let rows = [];
  for (const file of files) {
    const { ids, keys } = readTrace(file);
    const trace = traceName(file);
    for (const size of [...sizesFor(keys.length), ...(args.extra ? EXTRA_SIZES[trace] ?? [] : [])]) {
      const cell = `${trace}@${size}`;
      fixed[cell] ??= {};
      for (const p of FIXED) fixed[cell][p] ??= replayTrace(POLICIES[p], keys, ids, size).hits / ids.length;
      const started = Date.now();
      const result = replayTrace(policy, keys, ids, size);
      const hr = result.hits / ids.length;
      const f = fixed[cell];
      const gap = (x) => (f.opt - f.lru > 1e-12 ? (x - f.lru) / (f.opt - f.lru) : 0);
      const peer = Math.max(f.transitory, f.sieve, f['lru-cache']);
      rows.push({ extra: !sizesFor(keys.length).includes(size), cell, hr, gap: gap(hr), vsStatic: hr - Math.max(f.lru, f.lfu), vsPeer: hr - peer, f, seconds: (Date.now() - started) / 1000, gaps: { transitory: gap(f.transitory), sieve: gap(f.sieve) } });
    }
    mkdirSync(join(__dirname, '..', 'results'), { recursive: true });
    writeFileSync(CACHE_FILE, JSON.stringify(fixed, null, 1));
  }
  const p = (x) => (x * 100).toFixed(2).padStart(6);
  console.log(`${'cell'.padEnd(22)}    OPT    LRU    LFU  trans  sieve | ${args.label.padStart(8)}   gap  vsStat vsPeer  (s)`);
  for (const r of rows) {
    const flag = r.vsStatic < -0.005 || r.vsPeer < -0.02 ? ' <<' : '';
    console.log(`${r.cell.padEnd(22)} ${p(r.f.opt)} ${p(r.f.lru)} ${p(r.f.lfu)} ${p(r.f.transitory)} ${p(r.f.sieve)} | ${p(r.hr)}   ${r.gap.toFixed(3).padStart(6)} ${p(r.vsStatic)} ${p(r.vsPeer)} ${r.seconds.toFixed(1)}${flag}`);
  }
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  rows = rows.filter((r) => !r.extra);
  console.log(`mean gap: ${args.label} ${mean(rows.map((r) => r.gap)).toFixed(3)}, transitory ${mean(rows.map((r) => r.gaps.transitory)).toFixed(3)}, sieve ${mean(rows.map((r) => r.gaps.sieve)).toFixed(3)}; worst vs max(LRU,LFU) ${p(Math.min(...rows.map((r) => r.vsStatic)))}, worst vs best peer ${p(Math.min(...rows.map((r) => r.vsPeer)))}`);
}

main();
