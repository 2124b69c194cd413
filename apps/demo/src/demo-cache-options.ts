import { CacheModuleOptions, redisOptionsFromEnv } from 'nest-cachekit';

/**
 * The demo's cache settings: in-memory by default, Redis for every namespace when `REDIS_URL`,
 * `REDIS_SENTINELS` (+ `REDIS_SENTINEL_NAME`) or `REDIS_CLUSTER_NODES` is set.
 */
export function demoCacheOptions(env: NodeJS.ProcessEnv): CacheModuleOptions {
  const redis = redisOptionsFromEnv(env);
  return {
    keyPrefix: 'demo:',
    ...(redis ? { redis, defaults: { backend: 'redis' } } : {}),
    namespaces: {
      // Per-user data: short TTL, plenty of entries, recency matters.
      users: { ttl: '10m', maxEntries: 50_000, eviction: 'lru' },
      // The catalogue: long TTL, a popular head of tracks, so keep the frequently used ones.
      tracks: { ttl: '1h', maxEntries: 20_000, eviction: 'lfu' },
      // Computed lists: bounded by size rather than count.
      recommendations: { ttl: '15m', maxBytes: 16 * 1024 * 1024, maxValueBytes: 256 * 1024 },
    },
  };
}
