/**
 * The demo music API end to end with supertest: on the in-memory default, and on real servers of
 * each Redis topology chosen from the environment as the README runs it: a redis-server
 * (REDIS_URL), a Sentinel group (REDIS_SENTINELS + REDIS_SENTINEL_NAME) and a Cluster
 * (REDIS_CLUSTER_NODES). In memory and on a redis-server on Express and on Fastify; Sentinel and
 * Cluster, whose differences lie below the HTTP layer, on Express.
 */
import { randomBytes } from 'node:crypto';
import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { CacheService } from 'nest-cachekit';
import request from 'supertest';
import { AppModule } from '../apps/demo/src/app.module';
import { CatalogRepository } from '../apps/demo/src/catalog/catalog.repository';
import { RedisClusterHandle, startRedisCluster } from './support/redis-cluster';
import { askNode, RedisSentinelGroup, startRedisSentinelGroup } from './support/redis-sentinel';
import { startDemoApp } from './support/demo-app';
import { HttpAdapterName } from './support/http-app';
import { RedisServer, startRedisServer } from './support/redis-server';

const ENV = ['REDIS_URL', 'REDIS_SENTINELS', 'REDIS_SENTINEL_NAME', 'REDIS_CLUSTER_NODES', 'CACHE_ENCRYPTION_KEY'];

const cases: [topology: 'memory' | 'redis' | 'sentinel' | 'cluster', adapter: HttpAdapterName][] = [
  ['memory', 'express'], ['memory', 'fastify'], ['redis', 'express'], ['redis', 'fastify'], ['sentinel', 'express'], ['cluster', 'express'],
];

describe.each(cases)('demo app on %s, %s', (topology, adapter) => {
  const backend = topology === 'memory' ? 'memory' : 'redis';
  let app: INestApplication;
  let catalog: CatalogRepository;
  let redis: RedisServer | undefined;
  let sentinel: RedisSentinelGroup | undefined;
  let cluster: RedisClusterHandle | undefined;
  /** Every key on the topology's masters. */
  const allKeys = async (): Promise<string[]> => {
    if (redis) return askNode(redis.port, (r) => r.keys('*'));
    if (sentinel) return askNode(await sentinel.currentMasterPort(), (r) => r.keys('*'));
    const masters = (await cluster!.describe()).filter((n) => n.role === 'master');
    return (await Promise.all(masters.map((m) => askNode(m.port, (r) => r.keys('*'))))).flat();
  };

  /** The value of `key` on the topology's master that holds it. */
  const valueOf = async (key: string): Promise<Buffer | null> => {
    if (redis) return askNode(redis.port, (r) => r.getBuffer(key));
    if (sentinel) return askNode(await sentinel.currentMasterPort(), (r) => r.getBuffer(key));
    const masters = (await cluster!.describe()).filter((n) => n.role === 'master');
    // Only the master owning the key's slot answers; the others reply MOVED.
    const found = await Promise.all(masters.map((m) => askNode(m.port, (r) => r.getBuffer(key).catch(() => null))));
    return found.find((v) => v !== null) ?? null;
  };

  beforeAll(async () => {
    for (const name of ENV) delete process.env[name];
    if (topology !== 'memory') process.env.CACHE_ENCRYPTION_KEY = randomBytes(32).toString('base64');
    if (topology === 'redis') {
      redis = await startRedisServer();
      process.env.REDIS_URL = redis.url;
    } else if (topology === 'sentinel') {
      sentinel = await startRedisSentinelGroup({ downAfterMs: 5_000 });
      process.env.REDIS_SENTINELS = sentinel.sentinelAddresses.map((a) => `${a.host}:${a.port}`).join(',');
      process.env.REDIS_SENTINEL_NAME = sentinel.masterName;
    } else if (topology === 'cluster') {
      cluster = await startRedisCluster({ nodeTimeoutMs: 5_000 });
      process.env.REDIS_CLUSTER_NODES = cluster.seeds.map((a) => `${a.host}:${a.port}`).join(',');
    }
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = await startDemoApp(moduleRef, adapter);
    catalog = app.get(CatalogRepository);
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    for (const name of ENV) delete process.env[name];
    await Promise.all([redis?.stop(), sentinel?.stop(), cluster?.stop()]);
  });

  it('serves a track once from the catalogue, then from the cache', async () => {
    const before = catalog.reads.track;
    const first = await request(app.getHttpServer()).get('/tracks/t7').expect(200);
    const second = await request(app.getHttpServer()).get('/tracks/t7').expect(200);
    expect(second.body).toEqual(first.body);
    expect(first.body).toMatchObject({ id: 't7', title: 'Track 7' });
    expect(catalog.reads.track - before).toBe(1);
  });

  it('warmed the chart tracks at start-up: they are served without a catalogue read', async () => {
    const before = catalog.reads.track;
    const res = await request(app.getHttpServer()).get('/tracks/t3').expect(200);
    expect(res.body).toMatchObject({ id: 't3' });
    expect(catalog.reads.track).toBe(before);
  });

  it('caches an unknown track as null: 404 twice, one catalogue read', async () => {
    const before = catalog.reads.track;
    await request(app.getHttpServer()).get('/tracks/t999').expect(404);
    await request(app.getHttpServer()).get('/tracks/t999').expect(404);
    expect(catalog.reads.track - before).toBe(1);
  });

  it('answers concurrent requests for a cold key with one catalogue read', async () => {
    const before = catalog.reads.topTracks;
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => request(app.getHttpServer()).get('/users/u3/top-tracks')),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(catalog.reads.topTracks - before).toBe(1);
  });

  it('invalidates a user\'s top tracks and recommendations when a play is recorded', async () => {
    const server = app.getHttpServer();
    const top = await request(server).get('/users/u2/top-tracks').expect(200);
    await request(server).get('/users/u2/recommendations').expect(200);
    const reads = { ...catalog.reads };
    await request(server).get('/users/u2/top-tracks').expect(200);
    await request(server).get('/users/u2/recommendations').expect(200);
    expect(catalog.reads).toEqual(reads);

    const newTrack = 't200';
    for (let i = 0; i < 50; i++) await request(server).post('/users/u2/plays').send({ trackId: newTrack }).expect(201);
    const after = await request(server).get('/users/u2/top-tracks').expect(200);
    expect(after.body[0]).toMatchObject({ track: { id: newTrack }, plays: 50 });
    expect(after.body).not.toEqual(top.body);
    await request(server).get('/users/u2/recommendations').expect(200);
    expect(catalog.reads.topTracks).toBe(reads.topTracks + 1);
    expect(catalog.reads.recommendations).toBe(reads.recommendations + 1);
  });

  it('revives dates from the cache as dates (JSON shows them as ISO strings)', async () => {
    const server = app.getHttpServer();
    await request(server).get('/users/u5/top-tracks').expect(200);
    const cached = await app.get(CacheService).namespace('users').get<{ lastPlayed: Date }[]>('user:u5:top-tracks');
    expect(cached![0].lastPlayed).toBeInstanceOf(Date);
    const served = await request(server).get('/users/u5/top-tracks').expect(200);
    expect(served.body[0].lastPlayed).toBe(cached![0].lastPlayed.toISOString());
  });

  it('rejects ids that could shape a cache key, and unknown users', async () => {
    const server = app.getHttpServer();
    await request(server).get('/tracks/T1%0Aflushall').expect(400);
    await request(server).get(`/tracks/${'a'.repeat(65)}`).expect(400);
    await request(server).post('/users/u1/plays').send({ trackId: 42 }).expect(400);
    await request(server).get('/users/u404/top-tracks').expect(404);
  });

  it('writes a renamed track through to the cache (@CachePut)', async () => {
    const server = app.getHttpServer();
    await request(server).get('/tracks/t8').expect(200);
    const reads = catalog.reads.track;
    await request(server).put('/tracks/t8').send({ title: `Renamed on ${backend}` }).expect(200);
    const after = await request(server).get('/tracks/t8').expect(200);
    expect(after.body.title).toBe(`Renamed on ${backend}`);
    expect(catalog.reads.track).toBe(reads);
    await request(server).put('/tracks/t999').send({ title: 'x' }).expect(404);
  });

  it('drops every cached list about an artist with one tag invalidation (@CacheEvict tags)', async () => {
    const server = app.getHttpServer();
    const first = await request(server).get('/artists/nina-vale/tracks').expect(200);
    expect(first.body.length).toBeGreaterThan(0);
    await request(server).get('/artists/nina-vale/tracks').expect(200);
    const reads = catalog.reads.artist;
    await request(server).post('/artists/nina-vale/refresh').expect(204);
    await request(server).get('/artists/nina-vale/tracks').expect(200);
    expect(catalog.reads.artist).toBe(reads + 1);
  });

  it('caches the charts route whole, keyed by its allowlisted query only (CacheInterceptor)', async () => {
    const server = app.getHttpServer();
    const reads = catalog.reads.charts;
    const miss = await request(server).get('/charts?limit=3&utm_source=mail').expect(200);
    expect(miss.headers['x-cache']).toBe('MISS');
    expect(miss.body).toHaveLength(3);
    const hit = await request(server).get('/charts?limit=3').set('X-Forwarded-Host', 'evil.example').expect(200);
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(hit.body).toEqual(miss.body);
    expect(catalog.reads.charts).toBe(reads + 1);
    await request(server).get('/charts?limit=abc').expect(400);
    expect((await request(server).get('/charts?limit=abc').expect(400)).headers['x-cache']).toBeUndefined();
  });

  it('reports per-namespace figures on /cache/stats', async () => {
    const res = await request(app.getHttpServer()).get('/cache/stats').expect(200);
    const tracks = res.body.find((s: { namespace: string }) => s.namespace === 'tracks');
    expect(tracks).toMatchObject({ backend, eviction: 'lfu' });
    expect(tracks.hits).toBeGreaterThanOrEqual(2);
    expect(res.body.map((s: { namespace: string }) => s.namespace).sort()).toEqual(['default', 'recommendations', 'tracks', 'users']);
  });

  if (backend === 'redis') {
    it('keeps its entries in Redis under the demo prefix, one hash-tagged prefix per namespace', async () => {
      const keys = await allKeys();
      expect(keys.length).toBeGreaterThan(0);
      expect(keys.every((k) => /^demo:\{(users|tracks|recommendations)\}:/.test(k))).toBe(true);
      expect(keys).toContain('demo:{tracks}:track:t7');
    });

    it('stores the per-user namespace encrypted (CACHE_ENCRYPTION_KEY), the catalogue in clear', async () => {
      await request(app.getHttpServer()).get('/users/u2/top-tracks').expect(200);
      const keys = await allKeys();
      expect(keys).toContain('demo:{users}:user:u2:top-tracks');
      // xchacha20-poly1305, binary payloads: the frame's mark, its version, the provider's version.
      const sealed = (await valueOf('demo:{users}:user:u2:top-tracks'))!;
      expect([sealed[0], sealed[1], sealed[2]]).toEqual([0xc1, 0x01, 0x02]);
      expect(sealed.toString('latin1')).not.toMatch(/"t\d+"|trackId|plays/);
      expect((await valueOf('demo:{tracks}:track:t7'))!.toString()).toContain('"title"');
    });
  }
});
