/**
 * The Redis backend against real redis-server processes started on free loopback ports:
 * key layout, TTLs, SCAN-based clearing, corrupt entries, passwords and ACL users, TLS, and a
 * Redis that dies or is not there yet.
 */
import { Test, TestingModule } from '@nestjs/testing';
import { makeTlsCertificates, TlsCertificates } from '../../../test/support/tls-certificates';
import { RedisServer, sleep, startRedisServer, useRedisServer } from '../../../test/support/redis-server';
import { CacheModule } from '../src/cache.module';
import { CacheService } from '../src/cache.service';
import { BackendUnavailableError } from '../src/errors/backend-unavailable.error';
import { CacheModuleOptions } from '../src/options/cache-module-options.interface';

async function startCache(options: CacheModuleOptions): Promise<{ moduleRef: TestingModule; cache: CacheService }> {
  const moduleRef = await Test.createTestingModule({ imports: [CacheModule.forRoot(options)] }).compile();
  await moduleRef.init();
  return { moduleRef, cache: moduleRef.get(CacheService) };
}

describe('Redis backend on a real redis-server', () => {
  const redis = useRedisServer({ flushBeforeEach: true });
  let moduleRef: TestingModule;
  let cache: CacheService;

  beforeEach(async () => {
    ({ moduleRef, cache } = await startCache({
      redis: { url: redis.server.url },
      defaults: { backend: 'redis' },
      namespaces: { users: { ttl: '1h' }, tracks: {} },
    }));
  });
  afterEach(() => moduleRef.close());

  it('stores under global prefix + {namespace}: + key, with the TTL as PX', async () => {
    const users = cache.namespace('users');
    await users.set('spotify:user:123', { topTracks: ['t1'] });
    await cache.namespace('tracks').set('t1', { title: 'Blue' });
    expect((await redis.admin.keys('*')).sort()).toEqual(['cache:{tracks}:t1', 'cache:{users}:spotify:user:123']);
    const pttl = await redis.admin.pttl('cache:{users}:spotify:user:123');
    expect(pttl).toBeGreaterThan(3_500_000);
    expect(pttl).toBeLessThanOrEqual(3_600_000);
    expect(await redis.admin.pttl('cache:{tracks}:t1')).toBe(-1);
    await users.set('short', 1, { ttl: '30s' });
    expect(await redis.admin.pttl('cache:{users}:short')).toBeLessThanOrEqual(30_000);
  });

  it('round-trips rich values through Redis', async () => {
    const value = {
      when: new Date(1_700_000_000_000), plays: 2n ** 70n, genres: new Set(['jazz', 'soul']),
      byDay: new Map([['mon', 3]]), cover: Buffer.from([0, 1, 255]), nothing: null, ratio: NaN,
    };
    await cache.set('rich', value);
    const back = await cache.get<typeof value>('rich');
    expect(back).toEqual(value);
    expect(back!.when).toBeInstanceOf(Date);
    expect(back!.cover).toBeInstanceOf(Buffer);
  });

  it('mget and mset use the namespace prefix and keep order', async () => {
    const tracks = cache.namespace('tracks');
    await tracks.mset([{ key: 'a', value: 1 }, { key: 'b', value: 2, ttl: '1m' }]);
    expect(await tracks.mget(['b', 'x', 'a'])).toEqual([2, undefined, 1]);
    expect(await redis.admin.pttl('cache:{tracks}:b')).toBeGreaterThan(0);
  });

  it('keeps tag sets beside the entries, living as long as their longest-lived member', async () => {
    const users = cache.namespace('users');
    await users.set('u1', 1, { ttl: '1m', tags: ['artist:7'] });
    await users.set('u2', 2, { ttl: '2h', tags: ['artist:7'] });
    const tagKey = 'cache:{users}:\u001ftag:artist:7';
    expect((await redis.admin.smembers(tagKey)).sort()).toEqual(['cache:{users}:u1', 'cache:{users}:u2']);
    expect(await redis.admin.pttl(tagKey)).toBeGreaterThan(3_600_000);
    await cache.namespace('tracks').set('t', 3, { tags: ['artist:7'] });
    expect(await redis.admin.pttl('cache:{tracks}:\u001ftag:artist:7')).toBe(-1);
    expect(await users.invalidateTag('artist:7')).toBe(2);
    expect(await redis.admin.exists(tagKey, 'cache:{users}:u1', 'cache:{users}:u2')).toBe(0);
    expect(await cache.namespace('tracks').get('t')).toBe(3);
    // Clearing removes tag sets too, but counts only entries.
    expect(await cache.invalidateNamespace('tracks')).toBe(1);
    expect(await redis.admin.dbsize()).toBe(0);
  });

  it('reloads its Lua scripts after SCRIPT FLUSH (NOSCRIPT)', async () => {
    const users = cache.namespace('users');
    await users.set('a', 1, { tags: ['t'] });
    await redis.admin.script('FLUSH');
    await users.set('b', 2, { tags: ['t'] });
    await redis.admin.script('FLUSH');
    expect(await users.invalidateTag('t')).toBe(2);
  });

  it('clears a namespace with SCAN (never KEYS), leaving other namespaces and foreign keys alone', async () => {
    const users = cache.namespace('users');
    await users.mset(Array.from({ length: 1_200 }, (_, i) => ({ key: `u${i}`, value: i })));
    await cache.namespace('tracks').set('t1', 'kept');
    await redis.admin.set('someone-else:key', 'kept');
    await redis.admin.config('RESETSTAT');
    expect(await cache.invalidateNamespace('users')).toBe(1_200);
    expect(await redis.admin.dbsize()).toBe(2);
    const commandStats = await redis.admin.info('commandstats');
    expect(commandStats).toMatch(/cmdstat_scan:calls=\d+/);
    expect(commandStats).not.toMatch(/cmdstat_keys:/);
  });

  it('reads a corrupt or foreign entry as a miss and deletes it', async () => {
    await redis.admin.set('cache:{users}:bad', '{"$t":"BigInt","v":"12.5"}');
    await redis.admin.set('cache:{users}:text', 'plain text written by another program');
    const users = cache.namespace('users');
    expect(await users.get('bad')).toBeUndefined();
    expect(await users.get('text')).toBeUndefined();
    expect(await redis.admin.exists('cache:{users}:bad', 'cache:{users}:text')).toBe(0);
  });

  it('fails calls with BackendUnavailableError once Redis is gone, while getOrSet still answers', async () => {
    const dying = await startRedisServer();
    const started = await startCache({ redis: { url: dying.url, commandTimeoutMs: 500 }, defaults: { backend: 'redis' } });
    await started.cache.set('k', 'v');
    await dying.stop();
    await expect(started.cache.get('k')).rejects.toThrow(BackendUnavailableError);
    await expect(started.cache.set('k', 'w')).rejects.toThrow(/Cache backend "redis" failed during set in namespace "default"/);
    expect(await started.cache.getOrSet('k', () => 'from the loader')).toBe('from the loader');
    await started.moduleRef.close();
  });

  it('closes its Redis connection when the start fails after connecting', async () => {
    const failing = {
      create: () => {
        throw new Error('no such table');
      },
    };
    const clients = async () => (await redis.admin.client('LIST') as string).split('\n').filter((l) => l.includes('name=nest-cachekit')).length;
    const before = await clients(); // the connection of this suite's own cache module
    const start = Test.createTestingModule({
      imports: [CacheModule.forRoot({
        redis: { url: redis.server.url },
        backends: { broken: failing },
        namespaces: { a: { backend: 'redis' }, b: { backend: 'broken' } },
      })],
    }).compile();
    await expect(start).rejects.toThrow('no such table');
    for (let i = 0; i < 50 && (await clients()) > before; i++) await sleep(20);
    expect(await clients()).toBe(before);
  });

  it('starts while Redis is down and recovers by itself when it comes up', async () => {
    const placeholder = await startRedisServer();
    const port = placeholder.port;
    await placeholder.stop();
    const started = await startCache({ redis: { host: '127.0.0.1', port }, defaults: { backend: 'redis' } });
    await expect(started.cache.set('k', 'v')).rejects.toThrow(BackendUnavailableError);
    const revived = await startRedisServer({ port });
    try {
      let stored = false;
      for (let i = 0; i < 100 && !stored; i++) {
        stored = await started.cache.set('k', 'v').then(() => true, () => false);
        if (!stored) await sleep(100);
      }
      expect(stored).toBe(true);
      expect(await started.cache.get('k')).toBe('v');
    } finally {
      await started.moduleRef.close();
      await revived.stop();
    }
  });
});

describe('Redis authentication and TLS', () => {
  it('connects with requirepass and with an ACL user limited to the cache prefix', async () => {
    const server = await startRedisServer({
      args: ['--requirepass', 'admin-pw', '--user', 'cache', 'on', '>cache-pw', '~cache:*', '+get', '+set', '+del', '+unlink',
        '+exists', '+mget', '+multi', '+exec', '+scan', '+ping', '+client|setname', '+info', '+evalsha', '+eval', '+strlen', '+getrange',
        '+sadd', '+smembers', '+scard', '+pttl', '+pexpire', '+persist'],
    });
    try {
      const asDefault = await startCache({ redis: { host: '127.0.0.1', port: server.port, password: 'admin-pw' }, defaults: { backend: 'redis' } });
      await asDefault.cache.set('a', 1);
      expect(await asDefault.cache.get('a')).toBe(1);
      await asDefault.moduleRef.close();

      const asUser = await startCache({
        redis: { url: `redis://cache:${encodeURIComponent('cache-pw')}@127.0.0.1:${server.port}` },
        defaults: { backend: 'redis' },
      });
      await asUser.cache.mset([{ key: 'b', value: 2 }, { key: 'c', value: 3, ttl: '1m', tags: ['t'] }]);
      expect(await asUser.cache.mget(['a', 'b', 'c'])).toEqual([1, 2, 3]);
      expect(await asUser.cache.invalidateTag('t')).toBe(1);
      expect(await asUser.cache.invalidateNamespace()).toBe(2);
      await asUser.moduleRef.close();

      const wrong = await startCache({ redis: { host: '127.0.0.1', port: server.port, password: 'nope' }, defaults: { backend: 'redis' } });
      await expect(wrong.cache.get('a')).rejects.toThrow(BackendUnavailableError);
      await wrong.moduleRef.close();
    } finally {
      await server.stop();
    }
  });

  describe('over TLS', () => {
    let certs: TlsCertificates;
    let server: RedisServer;
    beforeAll(async () => {
      certs = makeTlsCertificates();
      const { freePort } = await import('../../../test/support/redis-server');
      const tlsPort = await freePort();
      server = await startRedisServer({
        args: ['--tls-port', String(tlsPort), '--tls-cert-file', certs.certFile, '--tls-key-file', certs.keyFile,
          '--tls-ca-cert-file', certs.caFile, '--tls-auth-clients', 'no'],
      });
      (server as { tlsPort?: number }).tlsPort = tlsPort;
    });
    afterAll(async () => {
      await server.stop();
      certs.remove();
    });

    it('works with the CA given, and refuses a server it cannot verify', async () => {
      const port = (server as { tlsPort?: number }).tlsPort!;
      const secure = await startCache({ redis: { host: '127.0.0.1', port, tls: { ca: certs.ca } }, defaults: { backend: 'redis' } });
      await secure.cache.set('k', { secret: true });
      expect(await secure.cache.get('k')).toEqual({ secret: true });
      await secure.moduleRef.close();

      const unverified = await startCache({ redis: { url: `rediss://127.0.0.1:${port}`, connectTimeoutMs: 1_000 }, defaults: { backend: 'redis' } });
      await expect(unverified.cache.get('k')).rejects.toThrow(BackendUnavailableError);
      await unverified.moduleRef.close();
    });
  });
});
