// node bench/eviction/plot-phase-change.js (after npm run build:lib) — draws docs/eviction-phase-change.svg:
// hit ratio over time of the adaptive strategy, LRU and the npm peers on the two phase-change traces
// at 1,000 entries, with the window share the adaptive strategy learned. Deterministic: the traces
// are seeded and the policies replayed as in bench:eviction (hit counts per block of accesses).
'use strict';
const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const lib = require('../../libs/cache');
const { POLICIES } = require('./policies');
const { phaseChangeTrace } = require('./phase-change');

const SIZE = 1000;
/** One point per half cache of accesses. */
const BLOCK = SIZE / 2;
const SERIES = [
  { policy: 'adaptive', label: 'adaptive (ours)', colour: '#d6336c', width: 2.4 },
  { policy: 'lru', label: 'LRU', colour: '#495057', width: 1.4 },
  { policy: 'transitory', label: 'transitory (W-TinyLFU)', colour: '#1c7ed6', width: 1.4 },
  { policy: 'sieve', label: 'SIEVE', colour: '#f59f00', width: 1.4 },
];

/** Per block: hit ratio of every series, and the adaptive strategy's window share at the block's end. */
function measure(name) {
  const trace = phaseChangeTrace(name, SIZE);
  const blocks = Math.ceil(trace.ids.length / BLOCK);
  const ratios = {};
  for (const { policy } of SERIES) {
    const cache = POLICIES[policy].open(SIZE);
    const hits = new Float64Array(blocks);
    trace.ids.forEach((id, i) => {
      if (cache.access(trace.keys[id])) hits[Math.floor(i / BLOCK)]++;
    });
    ratios[policy] = Array.from(hits, (h) => h / BLOCK);
  }
  const strategy = new lib.AdaptiveStrategy();
  const backend = new lib.MemoryBackend({ maxEntries: SIZE, strategy });
  const window = [];
  trace.ids.forEach((id, i) => {
    const key = trace.keys[id];
    if (backend.get(key) === undefined) backend.set(key, true, 0, 0);
    if ((i + 1) % BLOCK === 0) window.push(strategy.state().windowPercent / 100);
  });
  return { trace, blocks, ratios, window };
}

function panel({ trace, blocks, ratios, window }, top, width, height) {
  const left = 56;
  const right = width - 16;
  const bottom = top + height;
  const x = (block) => left + ((right - left) * block) / blocks;
  const y = (ratio) => bottom - ratio * height;
  const parts = [];
  parts.push(`<text x="${left}" y="${top - 10}" font-size="14" font-weight="600" fill="#212529">${trace.name}: ${trace.phases.map((p) => p.name).join(' → ')}, cache of ${SIZE.toLocaleString('en')} entries</text>`);
  for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(`<line x1="${left}" x2="${right}" y1="${y(tick).toFixed(1)}" y2="${y(tick).toFixed(1)}" stroke="#e9ecef"/>`);
    parts.push(`<text x="${left - 8}" y="${(y(tick) + 4).toFixed(1)}" font-size="11" text-anchor="end" fill="#868e96">${tick * 100}%</text>`);
  }
  for (const phase of trace.phases) {
    const at = x(phase.start / BLOCK);
    if (phase.start > 0) parts.push(`<line x1="${at.toFixed(1)}" x2="${at.toFixed(1)}" y1="${top}" y2="${bottom}" stroke="#adb5bd" stroke-dasharray="4 3"/>`);
    parts.push(`<text x="${(at + 6).toFixed(1)}" y="${top + 14}" font-size="11" fill="#868e96">${phase.name}</text>`);
  }
  for (let c = 0; c <= trace.ids.length / SIZE; c += 10) {
    parts.push(`<text x="${x((c * SIZE) / BLOCK).toFixed(1)}" y="${bottom + 16}" font-size="11" text-anchor="middle" fill="#868e96">${c}</text>`);
  }
  const line = (values, colour, strokeWidth, dash = '') =>
    `<polyline fill="none" stroke="${colour}" stroke-width="${strokeWidth}"${dash ? ` stroke-dasharray="${dash}"` : ''} points="${values.map((v, i) => `${x(i + 0.5).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"/>`;
  for (const s of [...SERIES].reverse()) parts.push(line(ratios[s.policy], s.colour, s.width));
  parts.push(line(window, '#d6336c', 1.2, '2 3'));
  return parts.join('\n');
}

function main() {
  const width = 960;
  const panelHeight = 220;
  const runs = ['recency-loop-recency', 'frequency-recency-frequency'].map(measure);
  const legendY = 36;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${2 * panelHeight + 190}" font-family="Inter, Helvetica, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="56" y="20" font-size="15" font-weight="700" fill="#212529">Hit ratio per ${BLOCK.toLocaleString('en')} accesses after a phase change (x: accesses in thousands = multiples of the cache size)</text>`,
  ];
  let legendX = 56;
  for (const s of SERIES) {
    parts.push(`<line x1="${legendX}" x2="${legendX + 22}" y1="${legendY}" y2="${legendY}" stroke="${s.colour}" stroke-width="${s.width + 0.6}"/>`);
    parts.push(`<text x="${legendX + 28}" y="${legendY + 4}" font-size="12" fill="#212529">${s.label}</text>`);
    legendX += 40 + s.label.length * 6.6;
  }
  parts.push(`<line x1="${legendX}" x2="${legendX + 22}" y1="${legendY}" y2="${legendY}" stroke="#d6336c" stroke-width="1.4" stroke-dasharray="2 3"/>`);
  parts.push(`<text x="${legendX + 28}" y="${legendY + 4}" font-size="12" fill="#212529">adaptive: learned window share</text>`);
  parts.push(panel(runs[0], 80, width, panelHeight));
  parts.push(panel(runs[1], 80 + panelHeight + 70, width, panelHeight));
  parts.push('</svg>');
  const out = join(__dirname, '..', '..', 'docs', 'eviction-phase-change.svg');
  mkdirSync(join(__dirname, '..', '..', 'docs'), { recursive: true });
  writeFileSync(out, `${parts.join('\n')}\n`);
  console.log(`wrote ${out}`);
}

main();
