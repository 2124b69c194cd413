/**
 * Redis that is not there: calls fail with `BackendUnavailableError` instead of waiting, and
 * shutdown completes, on standalone (with tiers and their bus subscriber) and on Cluster (whose
 * offline queue has no timer). Also the lock script's answer to a command resent after a lost reply.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { Test } from '@nestjs/testing';
import Redis from 'ioredis';
import { useRedisServer } from '../../../test/support/redis-server';
import { CacheModule } from '../src/cache.module';
import { CacheService } from '../src/cache.service';
import { BackendUnavailableError } from '../src/errors/backend-unavailable.error';
import { CacheModuleOptions } from '../src/options/cache-module-options.interface';
import { defineCacheScripts } from '../src/backends/redis/redis-scripts';

/** A loopback port nobody listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function start(options: CacheModuleOptions) {
  const moduleRef = await Test.createTestingModule({ imports: [CacheModule.forRoot(options)] }).compile();
  moduleRef.useLogger(false);
  await moduleRef.init();
  return moduleRef;
}

describe('a Redis that is not there', () => {
  it('standalone with tiers: reads and writes answer, and shutdown completes although the bus never subscribed', async () => {
    const port = await closedPort();
    const moduleRef = await start({
      redis: { url: `redis://127.0.0.1:${port}` },
      bus: { secret: randomBytes(32).toString('base64') },
      namespaces: { users: { backend: 'redis', l1: {} }, graced: { backend: 'redis', l1: {}, failSafe: { grace: '1m' } }, plain: { backend: 'redis' } },
    });
    const cache = moduleRef.get(CacheService);
    try {
      await expect(cache.namespace('plain').get('k')).rejects.toBeInstanceOf(BackendUnavailableError);
      await cache.namespace('users').set('k', 'v'); // L1 only while Redis is down
      await cache.namespace('graced').set('k', 'v');
      // The bus never delivered, so no L1 copy is known fresh: a miss, or a stale answer with grace.
      expect(await cache.namespace('users').get('k')).toBeUndefined();
      expect(await cache.namespace('graced').get('k')).toBe('v');
      expect(cache.namespace('graced').stats().staleServed).toBe(1);
    } finally {
      await moduleRef.close(); // would hang on a QUIT queued behind the subscriber's SUBSCRIBE
    }
  });

  it('Cluster: calls fail with BackendUnavailableError at once instead of queueing with no deadline, and shutdown completes', async () => {
    const ports = [await closedPort(), await closedPort()];
    const moduleRef = await start({
      redis: { cluster: { nodes: ports.map((port) => ({ host: '127.0.0.1', port })) } },
      namespaces: { tracks: { backend: 'redis' } },
    });
    const tracks = moduleRef.get(CacheService).namespace('tracks');
    await expect(tracks.get('t1')).rejects.toBeInstanceOf(BackendUnavailableError);
    await expect(tracks.set('t1', { id: 't1' })).rejects.toBeInstanceOf(BackendUnavailableError);
    await expect(tracks.mset([{ key: 'a', value: 1 }])).rejects.toBeInstanceOf(BackendUnavailableError);
    await expect(tracks.clear()).rejects.toBeInstanceOf(BackendUnavailableError); // not "0 removed"
    // getOrSet never fails because of the cache: the loader answers.
    expect(await tracks.getOrSet('t2', () => 'loaded')).toBe('loaded');
    await moduleRef.close();
  });
});

describe('the lock script and a resent command', () => {
  const redis = useRedisServer();

  it('answers 1 to its owner when the lock is already its own, 0 to anyone else', async () => {
    const client = defineCacheScripts(new Redis(redis.server.port, '127.0.0.1'));
    try {
      expect(await client.cachekitLockAcquire(1, 'cache:{l}:\u001flock:k', 'token-a', 5_000)).toBe(1);
      expect(await client.cachekitLockAcquire(1, 'cache:{l}:\u001flock:k', 'token-a', 5_000)).toBe(1); // the resend
      expect(await client.cachekitLockAcquire(1, 'cache:{l}:\u001flock:k', 'token-b', 5_000)).toBe(0);
      expect(await redis.admin.get('cache:{l}:\u001flock:k')).toBe('token-a');
    } finally {
      client.disconnect();
    }
  });
});
