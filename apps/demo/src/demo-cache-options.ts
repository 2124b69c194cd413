import { CacheModuleOptions } from 'nest-cachekit';

/**
 * The demo's cache settings: in-memory by default, Redis for every namespace when `REDIS_URL` is set,
 * and the per-user namespace encrypted at rest when `CACHE_ENCRYPTION_KEY` (base64 or hex, 32 bytes) is set.
 */
export function demoCacheOptions(env: NodeJS.ProcessEnv): CacheModuleOptions {
  const redisUrl = env.REDIS_URL;
  return {
    keyPrefix: 'demo:',
    ...(redisUrl ? { redis: { url: redisUrl }, defaults: { backend: 'redis' } } : {}),
    namespaces: {
      // Per-user data: short TTL, plenty of entries, recency matters.
      users: {
        ttl: '10m', maxEntries: 50_000, eviction: 'lru',
        ...(env.CACHE_ENCRYPTION_KEY ? { encryption: { keys: [{ id: 'demo-1', env: 'CACHE_ENCRYPTION_KEY' }] } } : {}),
      },
      // The catalogue: long TTL, a popular head of tracks, so keep the frequently used ones.
      tracks: { ttl: '1h', maxEntries: 20_000, eviction: 'lfu' },
      // Computed lists: bounded by size rather than count.
      recommendations: { ttl: '15m', maxBytes: 16 * 1024 * 1024, maxValueBytes: 256 * 1024 },
    },
  };
}
