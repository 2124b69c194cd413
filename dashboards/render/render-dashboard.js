// npm run dashboard:render — draws dashboards/nest-cachekit.json as an SVG (docs/dashboard.svg) from
// real data: starts the built demo app (memory backend) on a free loopback port, drives a bounded
// load (STEPS rounds of requests, about 25 s), scrapes /metrics after every round, and evaluates each
// panel's own PromQL over those scrapes (promql-subset.js), laying the panels out by their gridPos.
// Grafana itself is not installable here; this is a faithful stand-in, not a Grafana screenshot.
'use strict';
require('reflect-metadata');
const { writeFileSync, mkdirSync } = require('node:fs');
const { join } = require('node:path');
const http = require('node:http');
const { parsePrometheus } = require('./prometheus-text');
const { evaluate } = require('./promql-subset');

const STEPS = 40;
const STEP_PAUSE_MS = 500;
const RATE_WINDOW_STEPS = 4; // stands for $__rate_interval
const root = join(__dirname, '..', '..');
const dashboard = require('../nest-cachekit.json');

function get(port, path, method = 'GET', body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('error', reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

/** One round of traffic: popular tracks (Zipf-like), users' top tracks, recommendations, some writes. */
async function round(port, step, random) {
  const calls = [];
  for (let i = 0; i < 60; i++) {
    const id = Math.min(220, Math.floor(1 / (random() * 0.98 + 0.02)) + Math.floor(random() * 3 * step));
    calls.push(get(port, `/tracks/t${id}`));
  }
  for (let i = 0; i < 15; i++) calls.push(get(port, `/users/u${1 + Math.floor(random() * 20)}/top-tracks`));
  for (let i = 0; i < 8; i++) calls.push(get(port, `/users/u${1 + Math.floor(random() * 20)}/recommendations`));
  if (step % 3 === 0) calls.push(get(port, `/users/u${1 + (step % 20)}/plays`, 'POST', { trackId: `t${1 + step}` }));
  if (step % 5 === 0) calls.push(get(port, '/artists/nina-vale/refresh', 'POST'));
  calls.push(get(port, '/artists/mira-lind/tracks'));
  await Promise.all(calls);
}

async function collect() {
  const { NestFactory } = require('@nestjs/core');
  const { AppModule } = require(join(root, 'dist/apps/demo/app.module.js'));
  delete process.env.REDIS_URL;
  const app = await NestFactory.create(AppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  const port = app.getHttpServer().address().port;
  let seed = 7;
  const random = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const scrapes = [];
  const t0 = Date.now();
  for (let step = 0; step < STEPS; step++) {
    await round(port, step, random);
    const res = await get(port, '/metrics');
    scrapes.push({ time: (Date.now() - t0) / 1000, samples: parsePrometheus(res.text) });
    await new Promise((r) => setTimeout(r, STEP_PAUSE_MS));
  }
  await app.close();
  return scrapes;
}

const COL = 52;
const ROW = 30;
const PALETTE = ['#73bf69', '#f2cc0c', '#5794f2', '#ff9830', '#f2495c', '#b877d9', '#8ab8ff', '#fade2a', '#37872d', '#c4162a', '#1f60c4', '#fa6400', '#8f3bb8', '#e0b400', '#56a64b', '#ff7383'];
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function format(value, unit) {
  if (!Number.isFinite(value)) return '–';
  if (unit === 'percentunit') return `${(value * 100).toFixed(1)}%`;
  if (unit === 's') return value < 1e-3 ? `${(value * 1e6).toFixed(0)} µs` : value < 1 ? `${(value * 1e3).toFixed(1)} ms` : `${value.toFixed(2)} s`;
  if (unit === 'bytes') return value >= 1048576 ? `${(value / 1048576).toFixed(1)} MiB` : value >= 1024 ? `${(value / 1024).toFixed(1)} KiB` : `${value.toFixed(0)} B`;
  const suffix = unit === 'reqps' ? ' /s' : unit === 'ops' ? ' /s' : '';
  return (Math.abs(value) >= 1000 ? `${(value / 1000).toFixed(1)}k` : Math.abs(value) >= 10 ? value.toFixed(0) : value.toFixed(2)) + suffix;
}

const legendOf = (template, labels) => template.replace(/\{\{(\w+)\}\}/g, (_, l) => labels[l] ?? '');
const substitute = (expr) => expr.replace(/\$__rate_interval/g, String(RATE_WINDOW_STEPS)).replace(/\$namespace/g, '.*');

function panelSvg(panel, scrapes) {
  const { x, y, w, h } = panel.gridPos;
  const px = x * COL + 8;
  const py = y * ROW + 56;
  const pw = w * COL - 8;
  const ph = h * ROW - 8;
  const unit = panel.fieldConfig.defaults.unit;
  const parts = [`<g><rect x="${px}" y="${py}" width="${pw}" height="${ph}" rx="3" fill="#181b1f" stroke="#2c3235"/>`,
    `<text x="${px + 10}" y="${py + 20}" fill="#ccccdc" font-size="13" font-weight="600">${esc(panel.title)}</text>`];
  if (panel.type === 'stat') {
    const [target] = panel.targets;
    const values = evaluate(substitute(target.expr), scrapes, scrapes.length - 1, RATE_WINDOW_STEPS);
    const value = values.length === 0 ? NaN : values[0].value;
    parts.push(`<text x="${px + pw / 2}" y="${py + ph / 2 + 22}" fill="#73bf69" font-size="34" font-weight="500" text-anchor="middle">${esc(format(value, unit))}</text>`);
    parts.push('</g>');
    return parts.join('');
  }
  // Time series: every target, every series, at every scrape.
  const series = new Map();
  panel.targets.forEach((target) => {
    scrapes.forEach((_, at) => {
      for (const v of evaluate(substitute(target.expr), scrapes, at, RATE_WINDOW_STEPS)) {
        const name = legendOf(target.legendFormat ?? '', v.labels) || target.refId;
        if (!series.has(name)) series.set(name, []);
        series.get(name).push([scrapes[at].time, v.value]);
      }
    });
  });
  const plot = { x: px + 58, y: py + 32, w: pw - 70, h: ph - 72 };
  const all = [...series.values()].flat();
  if (all.length === 0) {
    parts.push(`<text x="${px + pw / 2}" y="${py + ph / 2}" fill="#8e8e8e" font-size="13" text-anchor="middle">No data</text></g>`);
    return parts.join('');
  }
  const tMax = scrapes[scrapes.length - 1].time;
  const vMax = panel.fieldConfig.defaults.max ?? (Math.max(...all.map((p) => p[1])) * 1.1 || 1);
  const sx = (t) => plot.x + (t / tMax) * plot.w;
  const sy = (v) => plot.y + plot.h - (v / vMax) * plot.h;
  for (let i = 0; i <= 4; i++) {
    const v = (vMax * i) / 4;
    parts.push(`<line x1="${plot.x}" x2="${plot.x + plot.w}" y1="${sy(v)}" y2="${sy(v)}" stroke="#2c3235"/>`);
    parts.push(`<text x="${plot.x - 6}" y="${sy(v) + 4}" fill="#8e8e8e" font-size="10" text-anchor="end">${esc(format(v, unit))}</text>`);
  }
  for (let s = 0; s <= tMax; s += 5) parts.push(`<text x="${sx(s)}" y="${plot.y + plot.h + 14}" fill="#8e8e8e" font-size="10" text-anchor="middle">${s}s</text>`);
  // The legend: one line under the plot, as in a small Grafana panel; what does not fit is counted.
  let legendX = px + 10;
  const legendY = py + ph - 10;
  let hidden = 0;
  [...series.entries()].forEach(([name, points], i) => {
    const colour = PALETTE[i % PALETTE.length];
    parts.push(`<polyline fill="none" stroke="${colour}" stroke-width="1.5" points="${points.map(([t, v]) => `${sx(t).toFixed(1)},${sy(v).toFixed(1)}`).join(' ')}"/>`);
    const label = esc(name);
    const width = name.length * 6 + 26;
    if (hidden > 0 || legendX + width > px + pw - 60) {
      hidden++;
      return;
    }
    parts.push(`<rect x="${legendX}" y="${legendY - 8}" width="12" height="3" fill="${colour}"/><text x="${legendX + 16}" y="${legendY - 4}" fill="#ccccdc" font-size="10">${label}</text>`);
    legendX += width;
  });
  if (hidden > 0) parts.push(`<text x="${legendX}" y="${legendY - 4}" fill="#8e8e8e" font-size="10">+${hidden} more</text>`);
  parts.push('</g>');
  return parts.join('');
}

async function main() {
  const scrapes = await collect();
  const height = Math.max(...dashboard.panels.map((p) => p.gridPos.y + p.gridPos.h)) * ROW + 70;
  const width = 24 * COL + 8;
  const svg = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="Inter, Helvetica, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="#111217"/>`,
    `<text x="10" y="24" fill="#ccccdc" font-size="18" font-weight="600">${esc(dashboard.title)}</text>`,
    `<text x="10" y="42" fill="#8e8e8e" font-size="11">Rendered by dashboards/render/render-dashboard.js from ${scrapes.length} scrapes of the demo's /metrics under a bounded load (${new Date().toISOString().slice(0, 10)}); namespace = All</text>`,
    ...dashboard.panels.map((p) => panelSvg(p, scrapes)), '</svg>'];
  const out = join(root, 'docs', 'dashboard.svg');
  mkdirSync(join(root, 'docs'), { recursive: true });
  writeFileSync(out, svg.join('\n') + '\n');
  console.log(`wrote ${out} from ${scrapes.length} scrapes over ${scrapes[scrapes.length - 1].time.toFixed(1)} s`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
