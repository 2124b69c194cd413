/**
 * The Redis backend's bounded read script against a real redis-server, beyond the size itself (see
 * redis-topologies.spec.ts and test/security/redis-planted-oversized-value.e2e-spec.ts): it reads
 * keys of another type as misses, as MGET does, so that one planted list cannot fail the gets batched
 * with it; and it never falls back to an unbounded read when Redis refuses its STRLEN.
 */
import { Test, TestingModule } from '@nestjs/testing';
import { useRedisServer } from '../../../test/support/redis-server';
import { BackendUnavailableError } from '../src/errors/backend-unavailable.error';
import { CacheModule } from '../src/cache.module';
import { CacheService } from '../src/cache.service';
import { CacheModuleOptions } from '../src/options/cache-module-options.interface';

async function startCache(options: CacheModuleOptions): Promise<{ moduleRef: TestingModule; cache: CacheService }> {
  const moduleRef = await Test.createTestingModule({ imports: [CacheModule.forRoot(options)] }).compile();
  await moduleRef.init();
  return { moduleRef, cache: moduleRef.get(CacheService) };
}

describe('bounded reads on Redis', () => {
  const redis = useRedisServer({ flushBeforeEach: true, password: 'admin-pw' });

  it('reads a key of another type as a miss in a batch, as MGET does, without failing the others', async () => {
    const { moduleRef, cache } = await startCache({ redis: { url: `redis://:admin-pw@127.0.0.1:${redis.server.port}` }, namespaces: { users: { backend: 'redis' } } });
    try {
      const users = cache.namespace('users');
      await users.mset([{ key: 'a', value: 1 }, { key: 'b', value: 2 }]);
      await redis.admin.rpush('cache:{users}:planted-list', 'x');
      await redis.admin.set('cache:{users}:big', JSON.stringify('x'.repeat(2 * 1024 * 1024)));
      expect(await Promise.all(['a', 'planted-list', 'b'].map((k) => users.get(k)))).toEqual([1, undefined, 2]);
      // With an oversized entry in the batch too (the script's per-key path).
      expect(await Promise.all(['a', 'planted-list', 'big', 'b'].map((k) => users.get(k)))).toEqual([1, undefined, undefined, 2]);
      expect(await users.mget(['planted-list', 'a'])).toEqual([undefined, 1]);
    } finally {
      await moduleRef.close();
    }
  });

  it('fails a batched read, never reads unbounded, when an ACL refuses STRLEN', async () => {
    await redis.admin.acl('SETUSER', 'nostrlen', 'on', '>pw', '~cache:*', '+get', '+getrange', '+set', '+mget', '+evalsha', '+eval', '+info', '+client|setname', '+ping');
    const { moduleRef, cache } = await startCache({ redis: { url: `redis://nostrlen:pw@127.0.0.1:${redis.server.port}` }, namespaces: { users: { backend: 'redis' } } });
    try {
      const users = cache.namespace('users');
      await users.set('a', 1);
      expect(await users.get('a')).toBe(1); // alone in its tick: GETRANGE, bounded by itself
      await expect(Promise.all(['a', 'b'].map((k) => users.get(k)))).rejects.toThrow(BackendUnavailableError);
      await expect(users.mget(['a'])).rejects.toThrow(BackendUnavailableError);
    } finally {
      await moduleRef.close();
    }
  });
});
