// npm run bench:eviction [-- --trace <file.keys.gz> --sizes <n,n,n> --json <out.json> --policies a,b]
// Replays real access traces through every policy at several cache sizes and prints the hit ratio
// (hits / all accesses, compulsory misses included) and the gap closed, (HR − HR_LRU) / (HR_OPT − HR_LRU).
// Without --trace: every *.keys.gz in ../shared/traces (or $TRACES_DIR) at the three sizes its README
// prescribes (0.1%, 1%, 10% of its unique keys; 10%, 50%, 90% under 5,000 unique keys), plus OLTP at
// 2,000 entries (Caffeine's published figures), then the phase-change traces (adaptation speed); it
// prints the targets, the worst cell against each peer, and writes bench/results/eviction.json and
// bench/results/eviction-table.md (the tables of docs/eviction.md). A simulation: hit ratios, not times.
'use strict';
const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { printTable } = require('./harness');
const { readTrace } = require('./eviction/read-trace');
const { POLICIES, replayTrace } = require('./eviction/policies');
const { EXTRA_SIZES, defaultTraces, sizesFor, traceName } = require('./eviction/traces');
const { measureAdaptation, TOLERANCE, DEADLINE } = require('./eviction/adaptation');
const { PHASE_TRACES } = require('./eviction/phase-change');

/** Caffeine's simulator on OLTP at 2,000 entries (its adaptive-window design notes, OLTP @ 2048). */
const CAFFEINE_OLTP_2000 = { lru: 0.428, hillClimber: 0.464, bestFixedWindow: 0.472 };
/** Cache sizes of the phase-change traces: simulated whole (100), and sampled by the experts (1,000; 10,000). */
const PHASE_SIZES = [100, 1000, 10000];
const TARGETS = { vsStatic: -0.005, vsPeer: -0.02, meanGapClosed: 0.3 };

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
    if (args.trace === undefined) throw new Error('--sizes needs --trace (without it each trace gets the sizes its README prescribes)');
  }
  args.policies = args.policies === undefined ? Object.keys(POLICIES) : args.policies.split(',');
  for (const p of args.policies) if (!(p in POLICIES)) throw new Error(`unknown policy ${p} (known: ${Object.keys(POLICIES).join(', ')})`);
  for (const needed of ['lru', 'opt']) if (!args.policies.includes(needed)) args.policies.unshift(needed); // gap closed needs both
  return args;
}

const pct = (x) => (x * 100).toFixed(2);
const points = (x) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)}`;
const gapClosed = (hr, lru, opt) => (opt - lru > 1e-12 ? (hr - lru) / (opt - lru) : 0);

function simulate(file, sizesArg, withExtra, policies) {
  const t0 = Date.now();
  const { ids, keys } = readTrace(file);
  const trace = traceName(file);
  const sizes = sizesArg ?? sizesFor(keys.length);
  const extraSizes = withExtra ? EXTRA_SIZES[trace] ?? [] : [];
  console.log(`\n${trace}: ${ids.length.toLocaleString('en')} accesses, ${keys.length.toLocaleString('en')} unique keys, max hit ratio ${pct((ids.length - keys.length) / ids.length)}% (read in ${Date.now() - t0} ms)`);
  const cells = [];
  for (const size of [...sizes, ...extraSizes]) {
    const hitRatio = {};
    const seconds = {};
    let adaptiveState;
    for (const p of policies) {
      const started = Date.now();
      const { hits, state } = replayTrace(POLICIES[p], keys, ids, size);
      seconds[p] = (Date.now() - started) / 1000;
      hitRatio[p] = hits / ids.length;
      if (p === 'adaptive') adaptiveState = state;
    }
    const gap = Object.fromEntries(policies.map((p) => [p, gapClosed(hitRatio[p], hitRatio.lru, hitRatio.opt)]));
    cells.push({ trace, size, accesses: ids.length, uniqueKeys: keys.length, extra: !sizes.includes(size), hitRatio, gapClosed: gap, adaptiveState });
    printTable(`${trace}, cache of ${size.toLocaleString('en')} entries`, ['policy', 'hit ratio %', 'gap closed', 'seconds'],
      policies.map((p) => [POLICIES[p].label, pct(hitRatio[p]), p === 'opt' ? '1' : gap[p].toFixed(3), seconds[p].toFixed(1)]));
    if (adaptiveState) console.log(`adaptive state at the end: ${JSON.stringify(adaptiveState)}`);
  }
  return cells;
}

/** The targets over the evaluated cells (extra cells excluded): worst cells, mean gap closed. */
function summarize(cells, policies) {
  const evaluated = cells.filter((c) => !c.extra);
  const name = (c) => `${c.trace}@${c.size}`;
  const meanGap = Object.fromEntries(policies.filter((p) => p !== 'opt').map((p) => [p, evaluated.reduce((a, c) => a + c.gapClosed[p], 0) / evaluated.length]));
  const summary = { cells: evaluated.length, meanGapClosed: meanGap };
  if (!policies.includes('adaptive')) return summary;
  const worst = (margin) => evaluated.reduce((w, c) => (margin(c) < w.margin ? { cell: name(c), margin: margin(c) } : w), { cell: '', margin: Infinity });
  const statics = ['lru', 'lfu'].filter((p) => policies.includes(p));
  summary.worstVsStatic = worst((c) => c.hitRatio.adaptive - Math.max(...statics.map((p) => c.hitRatio[p])));
  summary.worstVsPeer = {};
  for (const peer of policies.filter((p) => POLICIES[p].kind === 'peer')) summary.worstVsPeer[peer] = worst((c) => c.hitRatio.adaptive - c.hitRatio[peer]);
  const oltp = cells.find((c) => c.trace === 'oltp' && c.size === 2000);
  if (oltp) summary.oltp2000 = { adaptive: oltp.hitRatio.adaptive, lru: oltp.hitRatio.lru, opt: oltp.hitRatio.opt, transitory: oltp.hitRatio.transitory, caffeine: CAFFEINE_OLTP_2000 };
  return summary;
}

function printSummary(cells, policies, summary) {
  printTable('Hit ratio % (all traces and sizes; * = reported beside the evaluated cells)', ['trace', 'size', ...policies],
    cells.map((c) => [c.trace, `${c.size.toLocaleString('en')}${c.extra ? '*' : ''}`, ...policies.map((p) => pct(c.hitRatio[p]))]));
  printTable(`Mean gap closed over ${summary.cells} trace × size cells (1 = OPT, 0 = LRU)`, ['policy', 'mean gap closed'],
    Object.entries(summary.meanGapClosed).map(([p, g]) => [POLICIES[p].label, g.toFixed(3)]));
  if (summary.worstVsStatic === undefined) return [];
  const verdict = (ok) => (ok ? 'met' : 'MISSED');
  const checks = [];
  const { worstVsStatic, worstVsPeer, meanGapClosed } = summary;
  checks.push([`adaptive − max(LRU, LFU), worst cell`, worstVsStatic.cell, `${points(worstVsStatic.margin)} points`, '≥ −0.50', verdict(worstVsStatic.margin >= TARGETS.vsStatic)]);
  for (const [peer, w] of Object.entries(worstVsPeer)) checks.push([`adaptive − ${POLICIES[peer].label}, worst cell`, w.cell, `${points(w.margin)} points`, '≥ −2.00', verdict(w.margin >= TARGETS.vsPeer)]);
  const peers = Object.keys(worstVsPeer);
  const bestPeer = peers.reduce((a, p) => (meanGapClosed[p] > meanGapClosed[a] ? p : a), peers[0]);
  checks.push(['mean gap closed, adaptive', '', meanGapClosed.adaptive.toFixed(3), '≥ 0.30', verdict(meanGapClosed.adaptive >= TARGETS.meanGapClosed)]);
  if (bestPeer !== undefined) checks.push([`mean gap closed, best peer (${bestPeer})`, '', meanGapClosed[bestPeer].toFixed(3), '< adaptive', verdict(meanGapClosed.adaptive > meanGapClosed[bestPeer])]);
  if (summary.oltp2000) {
    const o = summary.oltp2000;
    checks.push(['OLTP @ 2,000: adaptive hit ratio %', `LRU ${pct(o.lru)}, OPT ${pct(o.opt)}`, pct(o.adaptive), `aim > ${pct(o.caffeine.bestFixedWindow)} (Caffeine: LRU ${pct(o.caffeine.lru)}, climber ${pct(o.caffeine.hillClimber)}, best fixed window ${pct(o.caffeine.bestFixedWindow)})`, o.adaptive > o.caffeine.bestFixedWindow ? 'met' : 'below']);
  }
  return checks;
}

function adaptation() {
  const references = { lru: POLICIES.lru, lfu: POLICIES.lfu, transitory: POLICIES.transitory, sieve: POLICIES.sieve };
  const rows = [];
  for (const name of Object.keys(PHASE_TRACES)) {
    for (const size of PHASE_SIZES) rows.push(...measureAdaptation(name, size, POLICIES.adaptive, references).filter((r) => r.settleInCacheSizes !== null));
  }
  const f = (x) => (x * 100).toFixed(1);
  const both = (r, p) => `${f(r.beforeDeadline[p])} → ${f(r.afterDeadline[p])}`;
  printTable(`Adaptation after a phase change (phase-change traces, 3 phases of 40 × cache each): hit ratio % over the first ${DEADLINE} × cache accesses of the phase → from there to its end, and the first k such that from k × cache to the phase's end adaptive is within ${TOLERANCE * 100} points of the best reference`,
    ['trace', 'cache', 'phase', 'adaptive', 'LRU', 'LFU', 'transitory', 'SIEVE', `within ${TOLERANCE * 100} points from`, `target: within ${TOLERANCE * 100} of the best after ${DEADLINE} × cache`],
    rows.map((r) => [r.trace, r.size.toLocaleString('en'), r.phase, both(r, 'subject'), both(r, 'lru'), both(r, 'lfu'), both(r, 'transitory'), both(r, 'sieve'),
      r.settleInCacheSizes === null ? 'never' : `${r.settleInCacheSizes} × cache`, r.afterDeadline.subject >= r.bestReference - TOLERANCE ? 'met' : 'MISSED']));
  return rows;
}

/** The markdown tables of docs/eviction.md, from this run. */
function markdown(cells, summary, adaptationRows) {
  const peersOrder = ['lru-cache', 'transitory', 'sieve'];
  const lines = ['| trace | size | OPT | LRU | LFU | **adaptive** | lru-cache | transitory (W-TinyLFU) | SIEVE | gap closed: adaptive / transitory / SIEVE / lru-cache / LFU |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|'];
  for (const c of cells) {
    const h = c.hitRatio;
    const g = c.gapClosed;
    lines.push(`| ${c.trace} | ${c.size.toLocaleString('en')}${c.extra ? '*' : ''} | ${pct(h.opt)} | ${pct(h.lru)} | ${pct(h.lfu)} | **${pct(h.adaptive)}** | ${peersOrder.map((p) => pct(h[p])).join(' | ')} | ${[g.adaptive, g.transitory, g.sieve, g['lru-cache'], g.lfu].map((x) => x.toFixed(3)).join(' / ')} |`);
  }
  const m = summary.meanGapClosed;
  lines.push('', `| mean gap closed over the ${summary.cells} cells | adaptive | transitory (W-TinyLFU) | SIEVE | lru-cache | LRU | LFU |`, '|---|---:|---:|---:|---:|---:|---:|',
    `| | **${m.adaptive.toFixed(3)}** | ${m.transitory.toFixed(3)} | ${m.sieve.toFixed(3)} | ${m['lru-cache'].toFixed(3)} | ${m.lru.toFixed(0)} | ${m.lfu.toFixed(3)} |`);
  const f = (x) => (x * 100).toFixed(1);
  lines.push('', `| phase-change trace | cache | phase | adaptive | LRU | LFU | transitory | SIEVE | within ${TOLERANCE * 100} points of the best from |`, '|---|---:|---|---:|---:|---:|---:|---:|---:|');
  const both = (r, p) => `${f(r.beforeDeadline[p])} → ${f(r.afterDeadline[p])}`;
  for (const r of adaptationRows) {
    lines.push(`| ${r.trace} | ${r.size.toLocaleString('en')} | ${r.phase} | **${both(r, 'subject')}** | ${['lru', 'lfu', 'transitory', 'sieve'].map((p) => both(r, p)).join(' | ')} | ${r.settleInCacheSizes === null ? 'never' : `${r.settleInCacheSizes} × cache`} |`);
  }
  return `${lines.join('\n')}\n`;
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const all = args.trace === undefined;
  const files = all ? defaultTraces() : [args.trace];
  const cells = [];
  for (const file of files) cells.push(...simulate(file, args.sizes, all, args.policies));
  const summary = summarize(cells, args.policies);
  const checks = printSummary(cells, args.policies, summary);
  const adaptationRows = all && args.policies.includes('adaptive') ? adaptation() : [];
  if (checks.length > 0) printTable('Targets', ['target', 'cell', 'value', 'target', 'verdict'], checks);
  if (args.json !== undefined) {
    writeFileSync(args.json, JSON.stringify(cells.map(({ adaptiveState: _state, ...c }) => c), null, 2));
    console.log(`\nwrote ${args.json}`);
  }
  if (all) {
    const dir = join(__dirname, 'results');
    mkdirSync(dir, { recursive: true });
    const ratios = { ...Object.fromEntries(Object.entries(summary.meanGapClosed).map(([p, g]) => [`meanGapClosed_${p}`, g])) };
    if (summary.worstVsStatic) {
      ratios.worstVsMaxLruLfuPoints = summary.worstVsStatic.margin * 100;
      for (const [peer, w] of Object.entries(summary.worstVsPeer)) ratios[`worstVs_${peer}Points`] = w.margin * 100;
    }
    if (summary.oltp2000) ratios.oltp2000HitRatioPercent = summary.oltp2000.adaptive * 100;
    const file = join(dir, 'eviction.json');
    writeFileSync(file, JSON.stringify({ name: 'eviction', node: process.version, date: new Date().toISOString(), summary, ratios, cells, adaptation: adaptationRows }, null, 2));
    console.log(`\nwrote ${file}`);
    if (Object.keys(POLICIES).every((p) => args.policies.includes(p))) {
      writeFileSync(join(dir, 'eviction-table.md'), markdown(cells, summary, adaptationRows));
      console.log(`wrote ${join(dir, 'eviction-table.md')}`);
    }
  }
  console.log(`\nNode ${process.version}, ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

try {
  main();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
