import Redis from 'ioredis';
import { startRedisServer, RedisServer } from '../../../test/support/redis-server';
import { MemoryBackendFactory } from '../src/backends/memory/memory-backend.factory';
import { AdaptiveStrategy } from '../src/eviction/adaptive/adaptive-strategy';
import { RedisBackendFactory } from '../src/backends/redis/redis-backend.factory';
import { describeBackendContract } from './backend-contract';
import { MapBackendFactory } from './map-backend.fixture';

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
});
