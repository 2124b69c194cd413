/**
 * An existing cache-manager store (cache-manager-ioredis-yet) plugged in as a custom backend, against
 * a real redis-server: the backend contract, then the module on top of it.
 */
import { Test, TestingModule } from '@nestjs/testing';
import { redisStore } from 'cache-manager-ioredis-yet';
import { useRedisServer } from '../../../test/support/redis-server';
import { CacheModule } from '../src/cache.module';
import { CacheService } from '../src/cache.service';
import { BackendUnavailableError } from '../src/errors/backend-unavailable.error';
import { TagsUnsupportedError } from '../src/errors/tags-unsupported.error';
import { CacheManagerStoreBackendFactory } from '../src/interop/cache-manager-store.backend';
import { CacheManagerStore } from '../src/interop/cache-manager-store.interface';
import { describeBackendContract } from '../src/testing';

/** cache-manager-ioredis-yet's typings extend cache-manager 5's `Store`, which cache-manager 7 (installed here) no longer exports. */
const asStore = (store: Awaited<ReturnType<typeof redisStore>>): CacheManagerStore => store as unknown as CacheManagerStore;

describe('cache-manager-ioredis-yet as a custom backend (real redis-server)', () => {
  // Flushed before every test, so the contract's factory and the module below start on an empty store.
  const redis = useRedisServer({ flushBeforeEach: true });

  let store: Awaited<ReturnType<typeof redisStore>> | undefined;
  describeBackendContract('cache-manager store (cache-manager-ioredis-yet)', {
    setUp: async () => {
      store = await redisStore({ host: '127.0.0.1', port: redis.server.port });
      return new CacheManagerStoreBackendFactory(asStore(store), { onClose: () => store!.client.quit() });
    },
    tearDown: async () => {
      await store?.client.quit();
    },
  });

  describe('through CacheModule', () => {
    let moduleRef: TestingModule;
    let cache: CacheService;
    let legacy: Awaited<ReturnType<typeof redisStore>>;
    beforeEach(async () => {
      legacy = await redisStore({ host: '127.0.0.1', port: redis.server.port });
      // redisStore() does not wait for its connection; a quit() racing the connect leaves a socket open.
      await legacy.client.ping();
      moduleRef = await Test.createTestingModule({
        imports: [CacheModule.forRoot({
          backends: { legacy: new CacheManagerStoreBackendFactory(asStore(legacy), { name: 'ioredis-yet', onClose: () => legacy.client.quit() }) },
          namespaces: { sessions: { backend: 'legacy', ttl: '1h' }, carts: { backend: 'legacy' } },
        })],
      }).compile();
      await moduleRef.init();
      cache = moduleRef.get(CacheService);
    });
    afterEach(() => moduleRef.close());

    it('stores our serializer\'s payload under the namespace prefix, with the namespace TTL', async () => {
      const sessions = cache.namespace('sessions');
      const when = new Date('2026-01-02T03:04:05Z');
      await sessions.set('s1', { user: 'u1', at: when, roles: new Set(['admin']) });
      expect(await sessions.get('s1')).toEqual({ user: 'u1', at: when, roles: new Set(['admin']) });
      expect(await redis.admin.exists('cache:{sessions}:s1')).toBe(1);
      const ttl = await redis.admin.pttl('cache:{sessions}:s1');
      expect(ttl).toBeGreaterThan(3_500_000);
      expect(ttl).toBeLessThanOrEqual(3_600_000);
    });

    it('clears one namespace and leaves the other', async () => {
      await cache.namespace('sessions').mset([{ key: 'a', value: 1 }, { key: 'b', value: 2, ttl: '5m' }]);
      await cache.namespace('carts').set('a', 'kept');
      expect(await cache.namespace('sessions').clear()).toBe(2);
      expect(await cache.namespace('sessions').mget(['a', 'b'])).toEqual([undefined, undefined]);
      expect(await cache.namespace('carts').get('a')).toBe('kept');
    });

    it('rejects tags with the typed error (the store cannot index them)', async () => {
      await expect(cache.namespace('sessions').set('t', 1, { tags: ['x'] })).rejects.toBeInstanceOf(TagsUnsupportedError);
      expect(await redis.admin.exists('cache:{sessions}:t')).toBe(0);
    });

    it('reports a dead store as BackendUnavailableError naming the backend', async () => {
      legacy.client.disconnect();
      const error = await cache.namespace('sessions').get('s1').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BackendUnavailableError);
      expect((error as Error).message).toContain('ioredis-yet');
    });
  });

  it('refuses something that is not a cache-manager store', () => {
    expect(() => new CacheManagerStoreBackendFactory({ get: async () => undefined } as never)).toThrow(/get\(\), set\(\) and del\(\)/);
  });
});
