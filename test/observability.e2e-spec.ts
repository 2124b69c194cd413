/**
 * The demo's /metrics and /health end to end (supertest): a known sequence of requests, then a
 * scrape whose counters must have exactly the expected values; histogram buckets present; no cache
 * key in any label; and /health reporting each backend (memory, then a real redis-server, then that
 * Redis stopped).
 */
import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { CacheService } from 'nest-cachekit';
import { register } from 'prom-client';
import request from 'supertest';
import { AppModule } from '../apps/demo/src/app.module';
import { parsePrometheusText, PromSample, sampleValue } from './support/prometheus-text';
import { RedisServer, startRedisServer } from './support/redis-server';

const ALLOWED_LABELS = new Set(['namespace', 'backend', 'tier', 'operation', 'reason', 'kind', 'le']);
const KEYS_USED = ['track:t7', 'track:t1', 'track:t999', 'artist:nina-vale:tracks', 'artist:nina-vale', 'user:u4:top-tracks'];

async function scrape(app: INestApplication): Promise<PromSample[]> {
  const res = await request(app.getHttpServer()).get('/metrics').expect(200);
  expect(res.headers['content-type']).toContain('text/plain');
  return parsePrometheusText(res.text);
}

describe('demo /metrics on the memory backend', () => {
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

  it('counts a known sequence exactly, in the scrape and in stats()', async () => {
    const tracks = { namespace: 'tracks', backend: 'memory' };
    const server = app.getHttpServer();
    const before = await scrape(app);
    // The warm-up wrote the five chart tracks with one mset; nothing was read yet.
    expect(sampleValue(before, 'nest_cachekit_sets_total', tracks)).toBe(5);
    expect(sampleValue(before, 'nest_cachekit_hits_total', tracks)).toBe(0);
    expect(sampleValue(before, 'nest_cachekit_entries', tracks)).toBe(5);

    await request(server).get('/tracks/t7').expect(200); // get miss, set
    await request(server).get('/tracks/t7').expect(200); // hit
    await request(server).get('/tracks/t1').expect(200); // hit (warmed)
    await request(server).get('/tracks/t999').expect(404); // miss, set null
    await request(server).get('/tracks/t999').expect(404); // hit (the cached null)
    await request(server).put('/tracks/t7').send({ title: 'Renamed' }).expect(200); // @CachePut: set
    await request(server).get('/artists/nina-vale/tracks').expect(200); // @Cacheable: miss, load, set (tagged)
    await request(server).get('/artists/nina-vale/tracks').expect(200); // hit
    await request(server).post('/artists/nina-vale/refresh').expect(204); // @CacheEvict tag: 1 removed

    const after = await scrape(app);
    expect(sampleValue(after, 'nest_cachekit_hits_total', tracks)).toBe(4);
    expect(sampleValue(after, 'nest_cachekit_misses_total', tracks)).toBe(3);
    expect(sampleValue(after, 'nest_cachekit_sets_total', tracks)).toBe(5 + 4);
    expect(sampleValue(after, 'nest_cachekit_invalidations_total', tracks)).toBe(1);
    expect(sampleValue(after, 'nest_cachekit_evictions_total', { ...tracks, reason: 'explicit' })).toBe(1);
    expect(sampleValue(after, 'nest_cachekit_evictions_total', { ...tracks, reason: 'capacity' })).toBe(0);
    expect(sampleValue(after, 'nest_cachekit_evictions_total', { ...tracks, reason: 'expiry' })).toBe(0);
    expect(sampleValue(after, 'nest_cachekit_errors_total', { ...tracks, kind: 'backend' })).toBe(0);
    expect(sampleValue(after, 'nest_cachekit_coalesced_total', tracks)).toBe(0);
    expect(sampleValue(after, 'nest_cachekit_tamper_detections_total', tracks)).toBe(0);
    expect(sampleValue(after, 'nest_cachekit_fallbacks_total', tracks)).toBe(0);
    // t1..t5, t7, t999 (the artist list was invalidated)
    expect(sampleValue(after, 'nest_cachekit_entries', tracks)).toBe(7);
    expect(sampleValue(after, 'nest_cachekit_bytes', tracks)).toBeGreaterThan(0);

    // The same figures in-process.
    const stats = app.get(CacheService).namespace('tracks').stats();
    expect(stats).toMatchObject({ hits: 4, misses: 3, sets: 9, invalidations: 1, entries: 7, coalesced: 0 });
    expect(stats.hitRatio).toBeCloseTo(4 / 7, 10);
    const viaHttp = await request(server).get('/cache/stats').expect(200);
    expect(viaHttp.body.find((s: { namespace: string }) => s.namespace === 'tracks')).toMatchObject({ hits: 4, misses: 3 });
  });

  it('exports the latency histogram with its buckets, per operation', async () => {
    // Sampled 1 in 256 on memory (the default): 2560 gets give exactly 10 samples.
    const cache = app.get(CacheService).namespace('users');
    for (let i = 0; i < 2560; i++) await cache.get(`user:u${i % 7}:top-tracks`);
    const samples = await scrape(app);
    const buckets = samples.filter((s) => s.name === 'nest_cachekit_operation_duration_seconds_bucket'
      && s.labels.namespace === 'users' && s.labels.operation === 'get');
    expect(buckets.map((b) => b.labels.le)).toEqual([
      '0.00001', '0.000025', '0.00005', '0.0001', '0.00025', '0.0005', '0.001', '0.0025', '0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '+Inf',
    ]);
    const count = sampleValue(samples, 'nest_cachekit_operation_duration_seconds_count', { namespace: 'users', operation: 'get' });
    expect(count).toBe(10);
    expect(buckets[buckets.length - 1].value).toBe(count);
    const values = buckets.map((b) => b.value);
    expect(values).toEqual([...values].sort((a, b) => a - b));
  });

  it('never puts a key into a label, and uses only the bounded label names', async () => {
    await request(app.getHttpServer()).get('/users/u4/top-tracks').expect(200);
    const samples = (await scrape(app)).filter((s) => s.name.startsWith('nest_cachekit_'));
    expect(samples.length).toBeGreaterThan(20);
    for (const sample of samples) {
      for (const [name, value] of Object.entries(sample.labels)) {
        expect(ALLOWED_LABELS.has(name)).toBe(true);
        for (const key of KEYS_USED) expect(value).not.toContain(key);
        expect(value).not.toMatch(/^(t|u)\d+$|:/);
      }
    }
  });

  it('GET /health reports the memory backend up, with its usage', async () => {
    const res = await request(app.getHttpServer()).get('/health').expect(200);
    expect(res.body.status).toBe('ok');
    const memory = res.body.details.cache.backends.memory;
    expect(memory.status).toBe('up');
    expect(memory.namespaces.tracks.entries).toBeGreaterThanOrEqual(5);
    expect(memory.heapUsedBytes).toBeGreaterThan(0);
  });
});

describe('demo /health and /metrics on Redis', () => {
  let app: INestApplication;
  let redis: RedisServer;

  beforeAll(async () => {
    register.resetMetrics();
    redis = await startRedisServer();
    process.env.REDIS_URL = redis.url;
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
  });

  afterAll(async () => {
    await app.close();
    delete process.env.REDIS_URL;
    await redis.stop();
  });

  it('counts on the redis backend and times every Redis call', async () => {
    const server = app.getHttpServer();
    await request(server).get('/tracks/t8').expect(200); // miss, set
    await request(server).get('/tracks/t8').expect(200); // hit
    const samples = await scrape(app);
    const tracks = { namespace: 'tracks', backend: 'redis' };
    expect(sampleValue(samples, 'nest_cachekit_hits_total', tracks)).toBe(1);
    expect(sampleValue(samples, 'nest_cachekit_misses_total', tracks)).toBe(1);
    expect(sampleValue(samples, 'nest_cachekit_sets_total', tracks)).toBe(5 + 1);
    // Every call is timed on an asynchronous backend: 2 gets, 1 set, the warm-up's mset.
    expect(sampleValue(samples, 'nest_cachekit_operation_duration_seconds_count', { ...tracks, operation: 'get' })).toBe(2);
    expect(sampleValue(samples, 'nest_cachekit_operation_duration_seconds_count', { ...tracks, operation: 'set' })).toBe(1);
    expect(sampleValue(samples, 'nest_cachekit_operation_duration_seconds_count', { ...tracks, operation: 'mset' })).toBe(1);
    // Redis does not report entries: no gauge rather than a wrong one.
    expect(sampleValue(samples, 'nest_cachekit_entries', tracks)).toBeUndefined();
  });

  it('GET /health reports Redis up with its PING latency and memory, then down (503) once it stops', async () => {
    const up = await request(app.getHttpServer()).get('/health').expect(200);
    const backend = up.body.details.cache.backends.redis;
    expect(backend.status).toBe('up');
    expect(backend.pingMs).toBeGreaterThanOrEqual(0);
    expect(backend.usedMemoryBytes).toBeGreaterThan(0);

    await redis.stop();
    const down = await request(app.getHttpServer()).get('/health').expect(503);
    expect(down.body.status).toBe('error');
    expect(down.body.error.cache.status).toBe('down');
    expect(down.body.error.cache.backends.redis.status).toBe('down');
  });
});
