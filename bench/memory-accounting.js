// npm run bench:memory-accounting — does `maxBytes` bound what a memory namespace really holds?
// For each shape, a fresh process fills one memory namespace (through CacheService, as an app does)
// and compares the namespace's `stats().bytes` with the heap it grew by (heapUsed + arrayBuffers,
// after full GCs). Keys, tags and values are made fresh per entry, as an app's would be, so that
// the growth is what the cache keeps alive.
// Figure: maxAbsErrorPercent, the largest |reported - heap| / heap over the shapes (docs/backends.md states it).
'use strict';
const { inFreshProcess, printTable, writeResults } = require('./harness');

const N = 200_000;

/** Shapes: key(i), value(i), tags(i) (or none), ttl, strategy; each is built in the child. */
const SHAPES = {
  'short keys, small values': { n: N, key: 'u => `user:${u}`', value: 'u => ({ id: u, name: `user ${u}`, active: true })' },
  // The key Map and the slot arrays double: just past a doubling they are half empty (the worst
  // case for small entries), just before one they are full (the best).
  'short keys, small values, tables just doubled': { n: 131_200, maxEntries: 1_000_000, key: 'u => `user:${u}`', value: 'u => ({ id: u, name: `user ${u}`, active: true })' },
  'short keys, small values, tables full': { n: 262_000, key: 'u => `user:${u}`', value: 'u => ({ id: u, name: `user ${u}`, active: true })' },
  'short keys, small values, TTL': { n: N, key: 'u => `user:${u}`', value: 'u => ({ id: u, name: `user ${u}`, active: true })', ttl: 3_600_000 },
  'short keys, small values, lfu': { n: N, key: 'u => `user:${u}`', value: 'u => ({ id: u, name: `user ${u}`, active: true })', eviction: 'lfu' },
  'short keys, small values, adaptive': { n: N, key: 'u => `user:${u}`', value: 'u => ({ id: u, name: `user ${u}`, active: true })', eviction: 'adaptive' },
  // A 1,000-character key as a request URL or a joined argument list is: one flat string.
  '1,000-char keys, tiny values': { n: N, key: 'u => longKey(u, 1000)', value: '() => 1' },
  'two-byte keys (Cyrillic, 60 chars), tiny values': { n: N, key: 'u => ["ключ", "пользователя", "профиль", "настройки", String(u).padStart(24, "0")].join(":")', value: '() => true' },
  'tagged: 2 tags (1 of 1,000 customers, 1 shared)': { n: N, key: 'u => `order:${u}`', value: 'u => ({ id: u, total: u % 977 })', tags: 'u => [`customer:${u % 1000}`, "orders"]' },
  'tagged: 1 tag of its own per entry': { n: N, key: 'u => `order:${u}`', value: 'u => ({ id: u, total: u % 977 })', tags: 'u => [`order-tag:${u}`]' },
  'large object values (~2 KB JSON, parsed)': { n: 50_000, key: 'u => `report:${u}`', value: 'u => JSON.parse(reportJson(u))' },
  'large string values (4 KB HTML)': { n: 50_000, key: 'u => `page:${u}`', value: 'u => htmlPage(u)' },
};

function child(name) {
  const shape = SHAPES[name];
  const script = `
    require('reflect-metadata');
    const { NestFactory } = require('@nestjs/core');
    const lib = require(${JSON.stringify(require.resolve('../libs/cache'))});
    const { createHash } = require('node:crypto');
    function hex(u, salt) { return createHash('sha256').update(salt + ':' + u).digest('hex'); }
    function longKey(u, length) {
      const parts = [];
      for (let n = 0, s = 0; n < length; s++) { const h = hex(u, s); parts.push(h.slice(0, Math.min(64, length - n))); n += 64; }
      return parts.join('');
    }
    function reportJson(u) {
      const rows = [];
      for (let r = 0; r < 12; r++) rows.push({ id: u * 100 + r, title: 'Track ' + hex(u, r).slice(0, 12), artist: 'Artist ' + (r * 7 + u) % 300, plays: (u * 31 + r) % 100000, score: ((u + r) % 1000) / 7, explicit: r % 3 === 0 });
      return JSON.stringify({ user: u, period: '2024-W' + (u % 52), generatedAt: new Date(1700000000000 + u).toISOString(), rows });
    }
    function htmlPage(u) {
      const items = [];
      for (let r = 0; r < 40; r++) items.push('<li class="item"><a href="/items/' + (u * 40 + r) + '">Item ' + hex(u, r).slice(0, 24) + '</a></li>');
      return ['<!doctype html><html><head><title>Page ', String(u), '</title></head><body><ul>', items.join(''), '</ul></body></html>'].join('');
    }
    const key = ${shape.key};
    const value = ${shape.value};
    const tags = ${shape.tags ?? 'null'};
    const n = ${shape.n};
    (async () => {
      const ns = { backend: 'memory', maxEntries: ${shape.maxEntries ?? 'n'}, maxValueBytes: 1 << 20${shape.eviction ? `, eviction: '${shape.eviction}'` : ''} };
      const app = await NestFactory.createApplicationContext(lib.CacheModule.forRoot({ namespaces: { m: ns } }), { logger: false, abortOnError: false });
      const cache = app.get(lib.CacheService).namespace('m');
      const options = { ttl: ${shape.ttl ?? 0} || undefined };
      // Warm the paths once (compiled code, lazily built structures) before the baseline.
      await cache.set('warm-up', value(0), tags ? { ...options, tags: tags(0) } : options);
      await cache.invalidate('warm-up');
      gc(); gc();
      const before = process.memoryUsage();
      for (let u = 0; u < n; u++) await cache.set(key(u), value(u), tags ? { ...options, tags: tags(u) } : options);
      gc(); gc();
      const after = process.memoryUsage();
      const stats = cache.stats();
      if (stats.entries !== n) throw new Error('expected ' + n + ' entries, got ' + stats.entries);
      const heap = after.heapUsed - before.heapUsed + after.arrayBuffers - before.arrayBuffers;
      process.stdout.write(JSON.stringify({ entries: n, reported: stats.bytes, heap }));
      await app.close();
    })().catch((e) => { console.error(e); process.exit(1); });
  `;
  return inFreshProcess(script, ['--max-old-space-size=4096']);
}

function main() {
  const started = Date.now();
  const rows = [];
  const table = [];
  for (const name of Object.keys(SHAPES)) {
    const r = child(name);
    const error = (r.reported - r.heap) / r.heap;
    rows.push({ shape: name, entries: r.entries, reportedBytes: r.reported, heapBytes: r.heap, errorPercent: error * 100 });
    table.push([name, String(r.entries), (r.reported / r.entries).toFixed(0), (r.heap / r.entries).toFixed(0), `${error >= 0 ? '+' : ''}${(error * 100).toFixed(1)}%`]);
  }
  printTable('Reported bytes vs heap growth, one memory namespace, fresh process per shape', ['shape', 'entries', 'reported B/entry', 'heap B/entry', 'error'], table);
  const errors = rows.map((r) => r.errorPercent);
  const ratios = { maxAbsErrorPercent: Math.max(...errors.map(Math.abs)), minErrorPercent: Math.min(...errors), maxErrorPercent: Math.max(...errors) };
  printTable('Figures', ['figure', 'value'], Object.entries(ratios).map(([k, v]) => [k, v.toFixed(1)]));
  console.log(`\nNode ${process.version}, ${((Date.now() - started) / 1000).toFixed(0)} s`);
  writeResults('memory-accounting', rows, ratios);
}

main();
