/**
 * Built-in backends are registered and driven like an app's own: one factory per name, the same
 * lifecycle (`connect` once at start-up before `create`, `health`, `close`), no branch on the names
 * `memory` or `redis` in the registry or the health check. Redis parts run on a real redis-server.
 */
import { Logger } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { useRedisServer } from '../../../test/support/redis-server';
import { BackendContext, CacheBackend, CacheBackendFactory } from '../src/backends/cache-backend.interface';
import { MemoryBackendFactory } from '../src/backends/memory/memory-backend.factory';
import { RedisBackendFactory } from '../src/backends/redis/redis-backend.factory';
import { CacheModule } from '../src/cache.module';
import { CacheModuleOptions } from '../src/options/cache-module-options.interface';
import { CacheHealthIndicator } from '../src/health/cache-health.indicator';
import { FaultInjectionBackendFactory } from '../src/backends/fault-injection/fault-injection-backend';
import { MapBackendFactory } from './map-backend.fixture';

async function start(options: CacheModuleOptions): Promise<TestingModule> {
  const moduleRef = await Test.createTestingModule({ imports: [CacheModule.forRoot(options)] }).compile();
  await moduleRef.init();
  return moduleRef;
}

/** A Map backend that records its lifecycle calls. */
class RecordingFactory implements CacheBackendFactory {
  readonly calls: string[] = [];
  private readonly inner = new MapBackendFactory();
  constructor(private readonly failConnect = false) {}

  async connect(): Promise<void> {
    this.calls.push('connect');
    await new Promise((resolve) => setTimeout(resolve, 5));
    if (this.failConnect) throw new Error('store unreachable');
    this.calls.push('connected');
  }

  create(context: BackendContext): CacheBackend {
    this.calls.push(`create ${context.namespace}`);
    return this.inner.create(context);
  }

  close(): void {
    this.calls.push('close');
  }
}

describe('backend registration and lifecycle', () => {
  it('connects an app backend once, before its namespaces are created, and closes it at shutdown', async () => {
    const store = new RecordingFactory();
    const moduleRef = await start({ backends: { store }, namespaces: { a: { backend: 'store' }, b: { backend: 'store' } } });
    expect(store.calls).toEqual(['connect', 'connected', 'create a', 'create b']);
    await moduleRef.close();
    expect(store.calls.at(-1)).toBe('close');
  });

  it('fails the start when a backend cannot connect, and closes it', async () => {
    const store = new RecordingFactory(true);
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      await expect(start({ backends: { store }, namespaces: { a: { backend: 'store' } } })).rejects.toThrow('store unreachable');
    } finally {
      logged.mockRestore();
    }
    expect(store.calls).toEqual(['connect', 'close']);
  });

  it('reports a memory factory\'s health by what it is, not by its name', async () => {
    // The built-in under "memory", and the same factory class registered by the app under its own name.
    const moduleRef = await start({ backends: { local: new MemoryBackendFactory() }, namespaces: { hot: {}, side: { backend: 'local' } } });
    const health = moduleRef.get(CacheHealthIndicator);
    const { backends } = (await health.check('cache')).cache;
    expect(backends.memory).toMatchObject({ status: 'up', namespaces: { hot: { entries: 0 }, default: { entries: 0 } } });
    expect(backends.local).toMatchObject({ status: 'up', namespaces: { side: { entries: 0, bytes: 0 } } });
    expect(backends.local.heapUsedBytes).toBeGreaterThan(0);
    await moduleRef.close();
  });

  describe('with a real redis-server', () => {
    const redis = useRedisServer({ flushBeforeEach: true });

    it('connects a Redis factory the app registers itself (here behind fault injection) at start-up, like the built-in', async () => {
      const own = new RedisBackendFactory({ url: redis.server.url });
      const moduleRef = await start({ backends: { flaky: new FaultInjectionBackendFactory(own) }, namespaces: { s: { backend: 'flaky' } } });
      expect(own.connections.commandConnections.map((c) => c.status)).toEqual(['ready']);
      const health = (await moduleRef.get(CacheHealthIndicator).check('cache')).cache.backends.flaky;
      expect(health).toMatchObject({ status: 'up', pingMs: expect.any(Number) });
      await moduleRef.close();
      // QUIT was answered; the socket closes a moment later.
      for (let i = 0; i < 100 && own.connections.commandConnections[0].status !== 'end'; i++) await new Promise((r) => setTimeout(r, 10));
      expect(own.connections.commandConnections.map((c) => c.status)).toEqual(['end']);
    });

    it('connects the built-in Redis factory once, however often connect() is called', async () => {
      const factory = new RedisBackendFactory({ url: redis.server.url });
      const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
      try {
        await Promise.all([factory.connect(), factory.connect()]);
        await factory.connect();
        expect(logged).not.toHaveBeenCalled();
        expect(await factory.connections.next().ping()).toBe('PONG');
      } finally {
        logged.mockRestore();
        await factory.close();
      }
    });

    it('opens no connection for the built-in redis backend while no namespace uses it', async () => {
      const before = Number(/connected_clients:(\d+)/.exec(await redis.admin.info('clients'))![1]);
      const moduleRef = await start({ redis: { url: redis.server.url }, namespaces: { hot: {} } });
      const during = Number(/connected_clients:(\d+)/.exec(await redis.admin.info('clients'))![1]);
      await moduleRef.close();
      expect(during).toBe(before);
    });
  });
});
