import { CacheModuleOptions, redisOptionsFromEnv } from 'nest-cachekit';
import { TrackDto } from './recommendations/track.dto';

/**
 * The demo's cache settings: in-memory by default, Redis for every namespace when `REDIS_URL`,
 * `REDIS_SENTINELS` (+ `REDIS_SENTINEL_NAME`) or `REDIS_CLUSTER_NODES` is set, and the per-user
 * namespace encrypted at rest when `CACHE_ENCRYPTION_KEY` (base64 or hex, 32 bytes) is set.
 */
export function demoCacheOptions(env: NodeJS.ProcessEnv): CacheModuleOptions {
  const redis = redisOptionsFromEnv(env);
  return {
    keyPrefix: 'demo:',
    ...(redis ? { redis, defaults: { backend: 'redis' } } : {}),
    namespaces: {
      // Per-user data: short TTL, plenty of entries, recency matters.
      users: {
        ttl: '10m', maxEntries: 50_000, eviction: 'lru',
        // The recommended provider (libsodium through sodium-native, installed with the library here): binary payloads in Redis.
        ...(env.CACHE_ENCRYPTION_KEY ? { encryption: { provider: 'xchacha20-poly1305', keys: [{ id: 'demo-1', env: 'CACHE_ENCRYPTION_KEY' }] } } : {}),
      },
      // The catalogue: long TTL, a popular head of tracks, so keep the frequently used ones.
      tracks: { ttl: '1h', maxEntries: 20_000, eviction: 'lfu' },
      // Computed lists: bounded by size rather than count.
      // Read back from Redis, every list must be tracks: anything else written there is a miss.
      recommendations: { ttl: '15m', maxBytes: 16 * 1024 * 1024, maxValueBytes: 256 * 1024, valueSchema: { dto: TrackDto, each: true } },
    },
    // RBAC on every cache operation. The principal is `request.user`, set here by the demo's
    // header-based stand-in for authentication (demo-auth/); anonymous visitors are listeners.
    rbac: {
      enabled: true,
      anonymousRoles: ['listener'],
      roles: {
        listener: { '*': ['read', 'write', 'invalidate'] },
        editor: { tracks: ['admin'] },
        'cache-admin': { '*': ['admin'] },
      },
    },
    audit: { keyHashSecret: env.CACHE_AUDIT_SECRET ?? 'demo-only-audit-secret-change-me' },
  };
}
