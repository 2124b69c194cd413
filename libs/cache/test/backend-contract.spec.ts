import Redis from 'ioredis';
import { startRedisServer, RedisServer } from '../../../test/support/redis-server';
import { MemoryBackendFactory } from '../src/backends/memory/memory-backend.factory';
import { AdaptiveStrategy } from '../src/eviction/adaptive/adaptive-strategy';
import { RedisBackendFactory } from '../src/backends/redis/redis-backend.factory';
import { TierRuntime } from '../src/tiers/tier-runtime';
import { BackendContext, CacheBackend, CacheBackendFactory } from '../src/backends/cache-backend.interface';
import { CacheEvents } from '../src/events/cache-events';
import { ValueCodec } from '../src/codec/value-codec';
import { TaggedJsonSerializer } from '../src/serialization/tagged-json-serializer';
import { describeBackendContract } from '../src/testing';
import { MapBackendFactory } from './map-backend.fixture';
import { LruStrategy } from '../src/eviction/lru-strategy';

/**
 * Tiers as the registry builds them (L1 memory + L2 Redis + bus + breaker, with a namespace codec),
 * held to the backend contract through the store's own methods.
 */
class TieredContractFactory implements CacheBackendFactory {
  private readonly events = new CacheEvents();
  private readonly runtime = new TierRuntime({
    bus: { secrets: ['contract-bus-secret-0123456789abcdef'], channel: 'contract:__bus', heartbeatMs: 100, replayWindowMs: 30_000 },
    breaker: { failureThreshold: 5, openMs: 1_000 },
    events: this.events,
  });

  constructor(private readonly redis: RedisBackendFactory) {}

  create(context: BackendContext): CacheBackend {
    const resilience = { l1: { maxEntries: 1_000, ttlMs: 0, eviction: () => new LruStrategy(), outageWrites: 'l1' as const }, graceMs: 0, softTimeoutMs: 0, hardTimeoutMs: 0, earlyRefresh: 0, lock: null };
    const codec = new ValueCodec({ name: context.namespace, serializer: new TaggedJsonSerializer(), maxValueBytes: 32 * 1024, maxKeyLength: 1024 }, 'redis', this.events, true);
    const store = this.runtime.store(context, resilience, this.redis.create(context), 'redis', this.redis, codec);
    this.runtime.start();
    return {
      name: store.name,
      storesLiveValues: true,
      get: (key) => store.get(key),
      set: (key, value, ttlMs, sizeBytes, tags) => store.set(key, value, ttlMs, sizeBytes, tags),
      delete: (key) => store.delete(key),
      has: (key) => store.has(key),
      mget: (keys) => store.mget(keys),
      mset: (entries) => store.mset(entries),
      clear: () => store.clear(),
      invalidateTag: (tag) => store.invalidateTag(tag),
    };
  }

  async close(): Promise<void> {
    await this.runtime.close();
    await this.redis.close();
  }
}

describeBackendContract('memory', {
  setUp: async () => new MemoryBackendFactory(),
  tearDown: async () => undefined,
});

describeBackendContract('memory with the adaptive strategy', {
  setUp: async () => new MemoryBackendFactory(),
  tearDown: async () => undefined,
  eviction: () => new AdaptiveStrategy(),
});

describeBackendContract('custom (user-style Map backend)', {
  setUp: async () => new MapBackendFactory(),
  tearDown: async () => undefined,
});

describe('with a real redis-server', () => {
  let server: RedisServer;
  let factory: RedisBackendFactory | undefined;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(() => server.stop());

  describeBackendContract('redis', {
    setUp: async () => {
      const admin = new Redis(server.port, '127.0.0.1');
      await admin.flushall();
      admin.disconnect();
      factory = new RedisBackendFactory({ url: server.url });
      await factory.connect();
      return factory;
    },
    tearDown: async () => {
      await factory?.close();
    },
  });

  let tiered: TieredContractFactory | undefined;
  describeBackendContract('tiered (L1 memory + redis)', {
    setUp: async () => {
      const admin = new Redis(server.port, '127.0.0.1');
      await admin.flushall();
      admin.disconnect();
      const redis = new RedisBackendFactory({ url: server.url });
      await redis.connect();
      tiered = new TieredContractFactory(redis);
      return tiered;
    },
    tearDown: async () => {
      await tiered?.close();
    },
  });
});
