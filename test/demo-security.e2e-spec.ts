/**
 * RBAC, audit and cache-poisoning protection on the demo app, end to end with supertest, on the
 * in-memory default and on a real redis-server, each on Express and on Fastify. Principals come from the demo's header stand-in for
 * authentication: `X-Demo-User: ada` (cache-admin), `ed` (listener + editor), `lee` (listener);
 * no header is an anonymous listener. Audit records are captured by a test AuditSink.
 */
import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import Redis from 'ioredis';
import { AuditRecord, AuditSink, AuditTrail, CacheEventMap, CacheService, TaggedJsonSerializer } from 'nest-cachekit';
import { createHmac } from 'node:crypto';
import request from 'supertest';
import { AppModule } from '../apps/demo/src/app.module';
import { CatalogRepository } from '../apps/demo/src/catalog/catalog.repository';
import { startDemoApp } from './support/demo-app';
import { HTTP_ADAPTERS } from './support/http-app';
import { RedisServer, startRedisServer } from './support/redis-server';

const SECRET = 'e2e-audit-secret-0123456789';
const hash = (namespace: string, key: string): string => createHmac('sha256', SECRET).update(`${namespace}\u0000${key}`).digest('hex');

/** A sink an auditor would trust in a test: it keeps every record, and can be made to fail. */
class CapturingSink implements AuditSink {
  readonly records: AuditRecord[] = [];
  failing = false;
  write(record: AuditRecord): void {
    if (this.failing) throw new Error('audit store unreachable');
    this.records.push(record);
  }
  take(): AuditRecord[] {
    return this.records.splice(0);
  }
}

type User = 'anonymous' | 'lee' | 'ed' | 'ada';
const USERS: User[] = ['anonymous', 'lee', 'ed', 'ada'];

const cases = (['memory', 'redis'] as const).flatMap((backend) => HTTP_ADAPTERS.map((adapter) => [backend, adapter] as const));

describe.each(cases)('demo security on the %s backend, %s', (backend, adapter) => {
  let app: INestApplication;
  let catalog: CatalogRepository;
  let cache: CacheService;
  let redis: RedisServer | undefined;
  let raw: Redis | undefined;
  const sink = new CapturingSink();
  const denied: CacheEventMap['denied'][] = [];

  const as = (user: User) => {
    const server = app.getHttpServer();
    const auth = <T extends request.Test>(req: T): T => (user === 'anonymous' ? req : (req.set('X-Demo-User', user) as T));
    return {
      get: (path: string) => auth(request(server).get(path)),
      post: (path: string, body?: object) => auth(request(server).post(path).send(body ?? {})),
      put: (path: string, body: object) => auth(request(server).put(path).send(body)),
    };
  };

  beforeAll(async () => {
    if (backend === 'redis') {
      redis = await startRedisServer();
      raw = new Redis(redis.port, '127.0.0.1');
      process.env.REDIS_URL = redis.url;
    } else {
      delete process.env.REDIS_URL;
    }
    process.env.CACHE_AUDIT_SECRET = SECRET;
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).overrideProvider(AuditSink).useValue(sink).compile();
    app = await startDemoApp(moduleRef, adapter);
    catalog = app.get(CatalogRepository);
    cache = app.get(CacheService);
    cache.events.on('denied', (e) => denied.push(e));
  });

  afterAll(async () => {
    await app.close();
    delete process.env.REDIS_URL;
    delete process.env.CACHE_AUDIT_SECRET;
    raw?.disconnect();
    await redis?.stop();
  });

  beforeEach(() => {
    sink.take();
    sink.failing = false;
    denied.length = 0;
  });

  describe('admin API: each role allowed and denied on each route', () => {
    const gate = { anonymous: 403, lee: 403, ed: 200, ada: 200 } as const;
    it.each(USERS)('GET /cache/admin/stats as %s', async (user) => {
      const res = await as(user).get('/cache/admin/stats').expect(gate[user]);
      if (user === 'ed') expect(res.body.map((s: { namespace: string }) => s.namespace)).toEqual(['tracks']);
      if (user === 'ada') expect(res.body.map((s: { namespace: string }) => s.namespace).sort()).toEqual(['default', 'recommendations', 'tracks', 'users']);
    });

    it.each(USERS)('POST /cache/admin/invalidate/key as %s', async (user) => {
      await as(user).get('/tracks/t11').expect(200);
      const res = await as(user).post('/cache/admin/invalidate/key', { namespace: 'tracks', key: 'track:t11' }).expect(gate[user]);
      expect(await cache.namespace('tracks').has('track:t11')).toBe(gate[user] === 403);
      if (gate[user] === 200) expect(res.body).toEqual({ removed: true });
    });

    it.each(USERS)('POST /cache/admin/invalidate/tag as %s', async (user) => {
      await as(user).get('/artists/mira-lind/tracks').expect(200);
      const res = await as(user).post('/cache/admin/invalidate/tag', { namespace: 'tracks', tag: 'artist:mira-lind' }).expect(gate[user]);
      expect(await cache.namespace('tracks').has('artist:mira-lind:tracks')).toBe(gate[user] === 403);
      if (gate[user] === 200) expect(res.body).toEqual({ removed: 1 });
    });

    it.each([
      ['anonymous', 'tracks', 403], ['lee', 'tracks', 403], ['ed', 'tracks', 200], ['ada', 'tracks', 200],
      ['ed', 'users', 403], ['ada', 'users', 200],
    ] as const)('POST /cache/admin/invalidate/namespace as %s on %s', async (user, namespace, status) => {
      await as(user).get('/tracks/t12').expect(200);
      await as(user).get('/users/u6/top-tracks').expect(200);
      const res = await as(user).post('/cache/admin/invalidate/namespace', { namespace }).expect(status);
      const key = namespace === 'tracks' ? 'track:t12' : 'user:u6:top-tracks';
      expect(await cache.namespace(namespace).has(key)).toBe(status === 403);
      if (status === 200) expect(res.body.removed).toBeGreaterThanOrEqual(1);
    });

    it.each([
      ['anonymous', 'tracks', 403], ['lee', 'tracks', 403], ['ed', 'tracks', 200], ['ada', 'tracks', 200],
      ['ed', 'users', 403], ['ada', 'users', 200],
    ] as const)('POST /cache/admin/warmup as %s on %s', async (user, namespace, status) => {
      await cache.namespace('tracks').invalidate('track:t1');
      const res = await as(user).post('/cache/admin/warmup', { namespace }).expect(status);
      if (status === 200) {
        const names = res.body.reports.map((r: { name: string }) => r.name);
        expect(names).toEqual(namespace === 'tracks' ? ['TracksService.warmCharts'] : []);
      }
      expect(await cache.namespace('tracks').has('track:t1')).toBe(status === 200 && namespace === 'tracks');
    });

    it('runs only the warm-ups of namespaces the caller administers when none is named', async () => {
      const res = await as('ed').post('/cache/admin/warmup').expect(200);
      expect(res.body.reports.map((r: { namespace: string; ok: boolean }) => [r.namespace, r.ok])).toEqual([['tracks', true]]);
    });

    it('validates every body with its DTO (unknown fields, bad namespaces, missing keys) and maps unknown namespaces to 404', async () => {
      const ada = as('ada');
      await ada.post('/cache/admin/invalidate/key', { namespace: 'tracks' }).expect(400);
      await ada.post('/cache/admin/invalidate/key', { namespace: 'tracks', key: 'track:t1', extra: 1 }).expect(400);
      await ada.post('/cache/admin/invalidate/key', { namespace: '../users', key: 'k' }).expect(400);
      await ada.post('/cache/admin/invalidate/tag', { namespace: 'tracks', tag: 42 }).expect(400);
      await ada.post('/cache/admin/invalidate/namespace', {}).expect(400);
      await ada.post('/cache/admin/warmup', { namespace: 'no such' }).expect(400);
      await ada.post('/cache/admin/invalidate/namespace', { namespace: 'ghost' }).expect(404);
      await ada.post('/cache/admin/warmup', { namespace: 'ghost' }).expect(404);
    });
  });

  describe('a decorated service method (@CacheEvict allEntries on TracksService.reloadCatalog)', () => {
    it.each([['anonymous', 403], ['lee', 403], ['ed', 204], ['ada', 204]] as const)('POST /catalog/reload as %s', async (user, status) => {
      await as(user).get('/tracks/t13').expect(200);
      await as(user).post('/catalog/reload').expect(status);
      expect(await cache.namespace('tracks').has('track:t13')).toBe(status === 403);
      if (status === 403) {
        const principal = user === 'anonymous' ? 'anonymous' : user;
        expect(denied).toEqual([{ namespace: 'tracks', operation: 'clear', principal }]);
      }
    });

    it('checks direct CacheNamespace calls made by services too (TracksService.find reads and writes "tracks")', async () => {
      const before = catalog.reads.track;
      await as('lee').get('/tracks/t14').expect(200);
      await as('ed').get('/tracks/t14').expect(200);
      expect(catalog.reads.track - before).toBe(1);
      // ada holds admin (hence read and write) everywhere.
      await as('ada').get('/tracks/t14').expect(200);
      expect(catalog.reads.track - before).toBe(1);
    });
  });

  describe('audit records, field by field, without raw keys', () => {
    const ISO = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    it('records an invalidation by key with the actor and an HMAC of the key', async () => {
      await as('ed').get('/tracks/t15').expect(200);
      await as('ed').post('/cache/admin/invalidate/key', { namespace: 'tracks', key: 'track:t15' }).expect(200);
      expect(sink.take()).toEqual([{
        time: ISO, actor: 'ed', actorKind: 'user', action: 'invalidate', namespace: 'tracks', keyHash: hash('tracks', 'track:t15'), outcome: 'success', detail: { existed: true },
      }]);
    });

    it('records tag invalidations and namespace clears', async () => {
      await as('ada').get('/artists/dj-kestrel/tracks').expect(200);
      await as('ada').post('/cache/admin/invalidate/tag', { namespace: 'tracks', tag: 'artist:dj-kestrel' }).expect(200);
      await as('ada').post('/cache/admin/invalidate/namespace', { namespace: 'recommendations' }).expect(200);
      const [tag, clear] = sink.take();
      expect(tag).toEqual({
        time: ISO, actor: 'ada', actorKind: 'user', action: 'invalidateTag', namespace: 'tracks', tagHash: hash('tracks', 'artist:dj-kestrel'), outcome: 'success', detail: { removed: 1 },
      });
      expect(clear).toEqual({ time: ISO, actor: 'ada', actorKind: 'user', action: 'clear', namespace: 'recommendations', outcome: 'success', detail: { removed: expect.any(Number) } });
    });

    it('records a denial at the admin gate and a denial by namespace permission', async () => {
      await as('lee').post('/cache/admin/invalidate/namespace', { namespace: 'tracks' }).expect(403);
      await as('ed').post('/cache/admin/invalidate/namespace', { namespace: 'users' }).expect(403);
      expect(sink.take()).toEqual([
        {
          time: ISO, actor: 'lee', actorKind: 'user', action: 'route', namespace: '*', outcome: 'denied',
          detail: { missing: 'needs one of the roles "cache-admin", "editor"', route: 'POST /cache/admin/invalidate/namespace' },
        },
        { time: ISO, actor: 'ed', actorKind: 'user', action: 'clear', namespace: 'users', outcome: 'denied', detail: { missing: 'needs "admin"' } },
      ]);
      expect(denied).toEqual([
        { namespace: '*', operation: 'POST /cache/admin/invalidate/namespace', principal: 'lee' },
        { namespace: 'users', operation: 'clear', principal: 'ed' },
      ]);
    });

    it('records warm-ups with the admin who asked as actor', async () => {
      await as('ed').post('/cache/admin/warmup', { namespace: 'tracks' }).expect(200);
      expect(sink.take()).toEqual([
        { time: ISO, actor: 'ed', actorKind: 'user', action: 'warmup', namespace: 'tracks', outcome: 'success', detail: { task: 'TracksService.warmCharts', entries: 5 } },
      ]);
    });

    it('records tamper detections from the encryption layer (the agreed "tamper" event), hashing the key', () => {
      // Emitted outside any request: the reader is unknown, so the record says anonymous, not system.
      cache.events.emit('tamper', { namespace: 'users', key: 'user:u1:top-tracks', reason: 'authentication tag mismatch' });
      expect(sink.take()).toEqual([{
        time: ISO, actor: 'anonymous', actorKind: 'anonymous', action: 'tamper', namespace: 'users', keyHash: hash('users', 'user:u1:top-tracks'), outcome: 'detected',
        detail: { reason: 'authentication tag mismatch' },
      }]);
    });

    it('never puts a raw key or tag in a record', async () => {
      await as('lee').get('/users/u7/top-tracks').expect(200);
      await as('lee').post('/users/u7/plays', { trackId: 't3' }).expect(201);
      await as('ada').post('/cache/admin/invalidate/key', { namespace: 'users', key: 'user:u7:secret-key' }).expect(200);
      await as('ed').post('/cache/admin/invalidate/key', { namespace: 'users', key: 'user:u7:denied-key' }).expect(200);
      await as('lee').post('/catalog/reload').expect(403);
      const records = sink.take();
      expect(records.map((r) => `${r.actor} ${r.action} ${r.namespace} ${r.outcome}`)).toEqual([
        'lee invalidate recommendations success',
        'lee invalidate users success',
        'ada invalidate users success',
        'ed invalidate users success',
        'lee clear tracks denied',
      ]);
      const text = JSON.stringify(records);
      for (const secret of ['u7', 'top-tracks', 'secret-key', 'denied-key']) expect(text).not.toContain(secret);
    });

    it('keeps the operation working when the sink fails, and counts the failure', async () => {
      const trail = app.get(AuditTrail);
      const before = trail.stats().sinkFailures;
      sink.failing = true;
      await as('ada').get('/tracks/t16').expect(200);
      await as('ada').post('/cache/admin/invalidate/key', { namespace: 'tracks', key: 'track:t16' }).expect(200);
      expect(await cache.namespace('tracks').has('track:t16')).toBe(false);
      expect(trail.stats().sinkFailures).toBe(before + 1);
    });
  });

  describe('cache-poisoning attempts are rejected or harmless', () => {
    it('cannot reach another namespace with separator or prefix injection in a key', async () => {
      await as('lee').get('/users/u8/top-tracks').expect(200);
      const users = cache.namespace('users');
      expect(await users.has('user:u8:top-tracks')).toBe(true);
      const attempts = [
        '}:user:u8:top-tracks', '{users}:user:u8:top-tracks', '../{users}:user:u8:top-tracks', 'demo:{users}:user:u8:top-tracks',
        '*', 'user:*', '{users}:*',
      ];
      for (const key of attempts) {
        const res = await as('ada').post('/cache/admin/invalidate/key', { namespace: 'tracks', key }).expect(200);
        expect(res.body).toEqual({ removed: false });
      }
      await as('ada').post('/cache/admin/invalidate/tag', { namespace: 'tracks', tag: '*' }).expect(200);
      // Control characters (RESP framing, the tag-set marker) are refused outright.
      for (const key of ['x\r\nDEL demo:{users}:user:u8:top-tracks', '\u001ftag:artist:x', 'user:u8\u0000']) {
        await as('ada').post('/cache/admin/invalidate/key', { namespace: 'tracks', key }).expect(400);
      }
      await as('ada').post('/cache/admin/invalidate/namespace', { namespace: 'tracks' }).expect(200);
      expect(await users.has('user:u8:top-tracks')).toBe(true);
      if (raw) expect(await raw.exists('demo:{users}:user:u8:top-tracks')).toBe(1);
    });

    it('rejects oversized values before they reach the cache', async () => {
      await as('lee').get('/tracks/t17').expect(200);
      await as('lee').put('/tracks/t17', { title: 'x'.repeat(10_000) }).expect(400);
      await as('lee').put('/tracks/t17', { title: 'x'.repeat(200_000) }).expect(413);
      expect((await cache.namespace('tracks').get<{ title: string }>('track:t17'))?.title).toBe('Track 17');
    });

    it('keeps unknown query parameters out of a cached route: one entry, one catalogue read', async () => {
      const reads = catalog.reads.charts;
      const first = await as('lee').get('/charts?limit=4&evil=%3Cscript%3E&__proto__%5Bx%5D=1').expect(200);
      const second = await as('ada').get('/charts?limit=4').expect(200);
      expect(second.headers['x-cache']).toBe('HIT');
      expect(second.body).toEqual(first.body);
      expect(catalog.reads.charts).toBe(reads + 1);
      if (raw) expect((await raw.keys('demo:{tracks}:http:*')).some((k) => /evil|proto/.test(k))).toBe(false);
    });

    if (backend === 'redis') {
      it('treats a stored value that fails the namespace DTO as a miss, and evicts it', async () => {
        const redisKey = 'demo:{recommendations}:user:u9:recommendations';
        const forged = new TaggedJsonSerializer().serialize([{ id: 'evil', title: '<script>alert(1)</script>', isAdmin: true }]);
        await raw!.set(redisKey, forged);
        const reads = catalog.reads.recommendations;
        const dropped = cache.namespace('recommendations').stats().unreadableDropped;
        const res = await as('lee').get('/users/u9/recommendations').expect(200);
        expect(res.body.length).toBeGreaterThan(0);
        expect(res.body.every((t: { id: string }) => /^t\d+$/.test(t.id))).toBe(true);
        expect(catalog.reads.recommendations).toBe(reads + 1);
        expect(cache.namespace('recommendations').stats().unreadableDropped).toBe(dropped + 1);
        // The forged entry is gone; what is stored now is the app's own, valid list.
        expect(await raw!.get(redisKey)).not.toBe(forged);
        await as('lee').get('/users/u9/recommendations').expect(200);
        expect(catalog.reads.recommendations).toBe(reads + 1);
      });
    }
  });
});
