/**
 * The Grafana dashboard in dashboards/nest-cachekit.json: its structure is what Grafana's import
 * needs, its panels cover what operators asked for, and every metric its PromQL names is one that a
 * real scrape of the demo's /metrics exposes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { AppModule } from '../apps/demo/src/app.module';

interface Target { refId: string; expr: string; datasource: { uid: string } }
interface Panel {
  id: number; type: string; title: string; datasource: { type: string; uid: string };
  gridPos: { x: number; y: number; w: number; h: number }; targets: Target[];
}
const dashboard = JSON.parse(readFileSync(join(__dirname, '..', 'dashboards', 'nest-cachekit.json'), 'utf8'));
const panels: Panel[] = dashboard.panels;
const exprs = panels.flatMap((p) => p.targets.map((t) => t.expr));
const LABELS = new Set(['namespace', 'backend', 'tier', 'operation', 'reason', 'kind', 'le']);

describe('Grafana dashboard', () => {
  it('has what an import needs: title, uid, schemaVersion, a Prometheus datasource input, templating', () => {
    expect(dashboard).toMatchObject({ title: 'nest-cachekit', uid: 'nest-cachekit' });
    expect(Number.isInteger(dashboard.schemaVersion)).toBe(true);
    expect(dashboard.__inputs).toEqual([expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' })]);
    const variables = dashboard.templating.list.map((v: { name: string }) => v.name);
    expect(variables).toEqual(['namespace']);
    for (const expr of exprs) {
      for (const [, name] of expr.matchAll(/\$(\w+)/g)) {
        if (!name.startsWith('__')) expect(variables).toContain(name);
      }
    }
  });

  it('lays out panels on the 24-column grid without overlaps, each with unique ids and refIds', () => {
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    for (const p of panels) {
      expect(['timeseries', 'stat']).toContain(p.type);
      expect(p.datasource).toEqual({ type: 'prometheus', uid: '${DS_PROMETHEUS}' });
      expect(p.gridPos.x).toBeGreaterThanOrEqual(0);
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
      expect(p.gridPos.h).toBeGreaterThan(0);
      expect(p.targets.length).toBeGreaterThan(0);
      expect(new Set(p.targets.map((t) => t.refId)).size).toBe(p.targets.length);
      for (const t of p.targets) expect(t.datasource.uid).toBe('${DS_PROMETHEUS}');
    }
    for (const a of panels) {
      for (const b of panels) {
        if (a === b) continue;
        const apart = a.gridPos.x + a.gridPos.w <= b.gridPos.x || b.gridPos.x + b.gridPos.w <= a.gridPos.x
          || a.gridPos.y + a.gridPos.h <= b.gridPos.y || b.gridPos.y + b.gridPos.h <= a.gridPos.y;
        expect(apart).toBe(true);
      }
    }
  });

  it('shows hit ratio per namespace, latency percentiles, evictions, errors and fallbacks', () => {
    const byTitle = (fragment: string) => panels.find((p) => p.title.toLowerCase().includes(fragment))!;
    expect(byTitle('hit ratio per namespace').targets[0].expr).toMatch(/sum by \(namespace\).*nest_cachekit_hits_total.*nest_cachekit_misses_total/);
    expect(byTitle('latency percentiles').targets.map((t) => t.expr.match(/histogram_quantile\(([\d.]+),/)?.[1])).toEqual(['0.5', '0.95', '0.99']);
    expect(byTitle('evictions').targets[0].expr).toContain('nest_cachekit_evictions_total');
    expect(byTitle('errors').targets[0].expr).toContain('nest_cachekit_errors_total');
    expect(byTitle('fallbacks').targets[0].expr).toContain('nest_cachekit_fallbacks_total');
  });

  it('writes well-formed PromQL: balanced brackets, and only the bounded label names', () => {
    for (const expr of exprs) {
      const stack: string[] = [];
      const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
      for (const ch of expr.replace(/"[^"]*"/g, '""')) {
        if ('([{'.includes(ch)) stack.push(ch);
        else if (ch in pairs) expect(stack.pop()).toBe(pairs[ch]);
      }
      expect(stack).toEqual([]);
      for (const [, labels] of expr.matchAll(/by \(([^)]*)\)/g)) {
        for (const label of labels.split(',').map((l) => l.trim())) expect(LABELS.has(label)).toBe(true);
      }
      for (const [, label] of expr.matchAll(/[{,]\s*(\w+)\s*=~?"/g)) expect(LABELS.has(label)).toBe(true);
    }
  });

  describe('against a real scrape of the demo', () => {
    let app: INestApplication;

    beforeAll(async () => {
      delete process.env.REDIS_URL;
      const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
      app = moduleRef.createNestApplication({ logger: false });
      await app.init();
    });

    afterAll(async () => {
      await app.close();
    });

    it('names only metrics that /metrics exposes', async () => {
      const server = app.getHttpServer();
      // 300 gets: memory namespaces time 1 call in 256, so the get histogram has at least one sample.
      for (let i = 0; i < 300; i++) await request(server).get(`/tracks/t${(i % 9) + 1}`).expect(200);
      const text = (await request(server).get('/metrics').expect(200)).text;
      const exposed = new Set<string>();
      for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
        exposed.add(name);
        if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) exposed.add(name + suffix);
      }
      const named = new Set(exprs.flatMap((e) => [...e.matchAll(/\b(nest_cachekit_[a-z_]+)\b/g)].map((m) => m[1])));
      expect(named.size).toBeGreaterThanOrEqual(10);
      for (const name of named) expect({ name, exposed: exposed.has(name) }).toEqual({ name, exposed: true });
      // The panels fed by the demo's traffic have samples, not only a TYPE line.
      expect(text).toMatch(/^nest_cachekit_operation_duration_seconds_bucket\{[^}]*operation="get"[^}]*\} \d+/m);
      expect(text).toMatch(/^nest_cachekit_hits_total\{namespace="tracks",backend="memory"\} [1-9]/m);
    });
  });
});
