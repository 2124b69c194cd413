/**
 * An entry found tampered or unreadable is deleted only if it still holds what was read: a newer,
 * legitimate write that lands between the read and the clean-up is kept. On a custom backend that
 * offers `deleteIfUnchanged`, and the Redis primitive behind it on a real redis-server.
 */
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { RedisServer, startRedisServer } from '../../../test/support/redis-server';
import { BackendEntry, CacheBackend } from '../src/backends/cache-backend.interface';
import { RedisBackend } from '../src/backends/redis/redis-backend';
import { defineCacheScripts } from '../src/backends/redis/redis-scripts';
import { CacheEvents } from '../src/events/cache-events';
import { CacheNamespace } from '../src/namespace/cache-namespace';
import { resolveCacheOptions } from '../src/options/resolve-cache-options';
import { MapBackendFactory } from './map-backend.fixture';

/** A byte backend on a Map that can run a "concurrent" write right after it hands out a read. */
class RacingBackend implements CacheBackend {
  readonly name = 'racing';
  readonly storesLiveValues = false;
  readonly store = new Map<string, string>();
  /** Runs once, right after the next get has read its value. */
  afterNextRead: (() => void) | undefined;
  async get(key: string): Promise<string | undefined> {
    const value = this.store.get(key);
    const race = this.afterNextRead;
    this.afterNextRead = undefined;
    race?.();
    return value;
  }
  async set(key: string, value: unknown): Promise<void> {
    this.store.set(key, value as string);
  }
  async delete(key: string): Promise<boolean> {
    return this.store.delete(key);
  }
  async deleteIfUnchanged(key: string, expected: unknown): Promise<boolean> {
    return this.store.get(key) === expected && this.store.delete(key);
  }
  async has(key: string): Promise<boolean> {
    return this.store.has(key);
  }
  async mget(keys: readonly string[]): Promise<unknown[]> {
    return keys.map((k) => this.store.get(k));
  }
  async mset(entries: readonly BackendEntry[]): Promise<void> {
    for (const e of entries) this.store.set(e.key, e.value as string);
  }
  async clear(): Promise<number> {
    const n = this.store.size;
    this.store.clear();
    return n;
  }
}

function namespaceOn(backend: RacingBackend, encrypted: boolean): { users: CacheNamespace; events: CacheEvents } {
  const encryption = encrypted ? { keys: [{ id: 'k1', key: randomBytes(32).toString('base64') }] } : undefined;
  const options = resolveCacheOptions({
    backends: { racing: new MapBackendFactory() },
    namespaces: { users: { backend: 'racing', ...(encryption && { encryption }) } },
  }).namespaces.get('users')!;
  const events = new CacheEvents();
  return { users: new CacheNamespace(options, backend, events), events };
}

describe('dropping a bad entry keeps a newer write', () => {
  it.each([
    ['tampered (encrypted namespace)', true, 'forged-not-a-token'],
    ['unreadable (plain namespace)', false, '{not json'],
  ])('an entry read %s is a miss, but the write that landed after the read survives', async (_what, encrypted, bad) => {
    const backend = new RacingBackend();
    const { users } = namespaceOn(backend, encrypted);
    await users.set('u1', { name: 'Ada' });
    const legit = backend.store.get('u1')!;
    backend.store.set('u1', bad);
    backend.afterNextRead = () => backend.store.set('u1', legit); // another instance writes meanwhile
    expect(await users.get('u1')).toBeUndefined();
    expect(backend.store.get('u1')).toBe(legit);
    expect(await users.get('u1')).toEqual({ name: 'Ada' });
  });

  it('without a newer write the bad entry is deleted', async () => {
    const backend = new RacingBackend();
    const { users } = namespaceOn(backend, true);
    backend.store.set('u2', 'forged-not-a-token');
    expect(await users.get('u2')).toBeUndefined();
    expect(backend.store.has('u2')).toBe(false);
    expect(users.stats().tamperDetected).toBe(1);
  });
});

describe('RedisBackend.deleteIfUnchanged on a real redis-server', () => {
  let server: RedisServer;
  let admin: Redis;
  beforeAll(async () => {
    server = await startRedisServer();
    admin = new Redis(server.port, '127.0.0.1');
  });
  afterAll(async () => {
    admin.disconnect();
    await server.stop();
  });

  it('deletes only while the entry holds the expected value', async () => {
    const client = defineCacheScripts(new Redis(server.port, '127.0.0.1'));
    try {
      const backend = new RedisBackend(client, 'cache:{race}:', 'race');
      await backend.set('k', 'bad', 60_000);
      await admin.set('cache:{race}:k', 'newer', 'KEEPTTL');
      expect(await backend.deleteIfUnchanged('k', 'bad')).toBe(false);
      expect(await admin.get('cache:{race}:k')).toBe('newer');
      expect(await backend.deleteIfUnchanged('k', 'newer')).toBe(true);
      expect(await admin.exists('cache:{race}:k')).toBe(0);
      expect(await backend.deleteIfUnchanged('missing', 'x')).toBe(false);
    } finally {
      client.disconnect();
    }
  });
});
