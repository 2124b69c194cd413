/**
 * Tiers across instances on a real redis-server: three app instances (separate Nest application
 * contexts) share one Redis. The L1 hit path, the authenticated invalidation bus, the cross-instance
 * stampede lock and the Lua scripts behind it.
 */
import { Injectable } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { createHmac, randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { sleep, useRedisServer } from '../../../test/support/redis-server';
import { RedisBackend } from '../src/backends/redis/redis-backend';
import { RedisLock } from '../src/backends/redis/redis-lock';
import { defineCacheScripts, ScriptedRedis } from '../src/backends/redis/redis-scripts';
import { CacheModule } from '../src/cache.module';
import { Cacheable } from '../src/decorators/cacheable.decorator';
import { CacheService } from '../src/cache.service';
import { CacheModuleOptions } from '../src/options/cache-module-options.interface';

/** The bus secret every instance shares: a random key, as the module requires. */
const SECRET = randomBytes(32).toString('base64');

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

/** Loader runs of the decorated method, summed over every instance in this process. */
let trackLoads = 0;

@Injectable()
class TrackService {
  @Cacheable({ namespace: 'users', key: 'track:{0}' })
  async track(id: string): Promise<{ id: string }> {
    trackLoads++;
    await sleep(150);
    return { id };
  }
}

async function startInstance(url: string, overrides: Partial<CacheModuleOptions> = {}): Promise<{ moduleRef: TestingModule; cache: CacheService }> {
  const moduleRef = await Test.createTestingModule({
    imports: [CacheModule.forRoot({
      redis: { url },
      bus: { secret: SECRET, heartbeat: '100ms' },
      namespaces: {
        users: { backend: 'redis', ttl: '1h', l1: { maxEntries: 1000 }, failSafe: { grace: '1h' }, lock: { ttl: '2s', pollInterval: '10ms' } },
        early: { backend: 'redis', ttl: '1h', l1: {}, failSafe: { grace: '1h', earlyRefresh: 0.5 }, lock: { ttl: '2s', pollInterval: '10ms' } },
      },
      ...overrides,
    })],
    providers: [TrackService],
  }).compile();
  await moduleRef.init();
  const cache = moduleRef.get(CacheService);
  // The L1 is trusted once the bus has heard its own heartbeat.
  await until(() => cache.namespace('users').stats().bus?.connected === true);
  return { moduleRef, cache };
}

async function commandCalls(admin: Redis): Promise<Record<string, number>> {
  const info = await admin.info('commandstats');
  const calls: Record<string, number> = {};
  for (const match of info.matchAll(/^cmdstat_(\w+(?:\|\w+)?):calls=(\d+)/gm)) calls[match[1]] = Number(match[2]);
  return calls;
}

describe('tiers on a real redis-server, three instances', () => {
  const redis = useRedisServer({ flushBeforeEach: true });
  let instances: { moduleRef: TestingModule; cache: CacheService }[];

  beforeEach(async () => {
    instances = await Promise.all([0, 1, 2].map(() => startInstance(redis.server.url)));
  });
  afterEach(async () => {
    await Promise.all(instances.map((i) => i.moduleRef.close()));
  });

  const users = (i: number): ReturnType<CacheService['namespace']> => instances[i].cache.namespace('users');

  it('answers an L1 hit without sending any command to Redis', async () => {
    await users(0).set('u1', { name: 'Ada' });
    const before = await commandCalls(redis.admin);
    for (let i = 0; i < 100; i++) expect(await users(0).get('u1')).toEqual({ name: 'Ada' });
    const after = await commandCalls(redis.admin);
    for (const cmd of ['get', 'mget', 'evalsha', 'eval', 'exists']) expect(after[cmd] ?? 0).toBe(before[cmd] ?? 0);
    expect(users(0).stats().tiers?.l1?.hits).toBe(100);
  });

  it('speaks RESP3 on its connections, the bus subscriber included, and the invalidation still arrives', async () => {
    const clients = (await redis.admin.client('LIST') as string).split('\n').filter((l) => l.includes(' name=nest-cachekit'));
    expect(clients.some((l) => l.includes(' name=nest-cachekit:subscriber '))).toBe(true);
    for (const line of clients) expect(line).toMatch(/ resp=3(\s|$)/);
    await users(0).set('r3', 'v1');
    await until(async () => (await users(1).get('r3')) === 'v1', 2_000); // now in instance 1's L1
    const received = users(1).stats().bus!.received;
    await users(0).set('r3', 'v2');
    await until(() => users(1).stats().bus!.received > received, 2_000);
    expect(await users(1).get('r3')).toBe('v2');
  });

  it('runs the adaptive strategy in an L1 tier and shows what it learned in stats()', async () => {
    const { moduleRef, cache } = await startInstance(redis.server.url, {
      namespaces: { users: { backend: 'redis', l1: {} }, feed: { backend: 'redis', l1: { maxEntries: 50, eviction: 'adaptive' } } },
    });
    try {
      const feed = cache.namespace('feed');
      for (let i = 0; i < 200; i++) await feed.set(`item:${i}`, i);
      const stats = feed.stats();
      expect(stats.strategy?.strategy).toBe('adaptive');
      expect(stats.strategy).toHaveProperty('windowPercent');
      expect(stats.entries).toBeLessThanOrEqual(50);
      expect(await feed.get('item:3')).toBe(3); // evicted from L1, still in Redis
    } finally {
      await moduleRef.close();
    }
  });

  it('fills L1 from Redis on another instance, through the namespace serializer', async () => {
    await users(0).set('u1', { when: new Date(0), tags: new Set(['a']) });
    await until(() => users(1).stats().bus!.received === 1, 2_000); // the set's own invalidation, which would drop the copy
    expect(await users(1).get('u1')).toEqual({ when: new Date(0), tags: new Set(['a']) });
    expect(users(1).stats().tiers).toMatchObject({ l1: { hits: 0, misses: 1, sets: 1 }, l2: { hits: 1, misses: 0 } });
    expect(await users(1).get('u1')).toEqual({ when: new Date(0), tags: new Set(['a']) });
    expect(users(1).stats().tiers?.l1?.hits).toBe(1);
    // The Redis TTL is the entry's TTL plus its grace period.
    const pttl = await redis.admin.pttl('cache:{users}:u1');
    expect(pttl).toBeGreaterThan(7_000_000);
  });

  it('drops the other instances\' L1 copies on set, invalidate, tag invalidation and clear, within a bounded time', async () => {
    await users(0).set('k', 'v1', { tags: ['t'] });
    for (const i of [1, 2]) expect(await users(i).get('k')).toBe('v1');
    await users(0).set('k', 'v2', { tags: ['t'] });
    await until(async () => (await users(1).get('k')) === 'v2' && (await users(2).get('k')) === 'v2', 2_000);
    await users(1).invalidate('k');
    await until(async () => (await users(0).get('k')) === undefined && (await users(2).get('k')) === undefined, 2_000);
    await users(0).set('k', 'v3', { tags: ['t'] });
    for (const i of [1, 2]) await until(async () => (await users(i).get('k')) === 'v3', 2_000);
    await users(2).invalidateTag('t');
    for (const i of [0, 1]) await until(async () => (await users(i).get('k')) === undefined, 2_000);
    await users(0).set('k', 'v4');
    for (const i of [1, 2]) await until(async () => (await users(i).get('k')) === 'v4', 2_000);
    await users(1).clear();
    for (const i of [0, 2]) await until(async () => (await users(i).get('k')) === undefined, 2_000);
    expect(users(1).stats().bus).toMatchObject({ forged: 0, connected: true });
    expect(users(1).stats().bus!.received).toBeGreaterThan(0);
    expect(users(0).stats().bus!.ownIgnored).toBeGreaterThan(0);
  });

  it('ignores and counts forged bus messages (bad HMAC, other secret, garbage)', async () => {
    await users(0).set('k', 'v1');
    await until(() => users(1).stats().bus!.received === 1, 2_000); // the set's own invalidation
    expect(await users(1).get('k')).toBe('v1');
    const body = JSON.stringify({ n: 'users', o: 'k', k: ['k'], s: 'attacker' });
    const otherSecret = createHmac('sha256', 'x'.repeat(40)).update(body).digest('base64url');
    await redis.admin.publish('cache:__bus', `v1.AAAA.${body}`);
    await redis.admin.publish('cache:__bus', `v1.${otherSecret}.${body}`);
    await redis.admin.publish('cache:__bus', 'not a message');
    await until(() => users(1).stats().bus!.forged === 3, 2_000);
    const gets = (await commandCalls(redis.admin)).get ?? 0;
    expect(await users(1).get('k')).toBe('v1'); // still its L1 copy: the forged invalidation was not applied
    expect((await commandCalls(redis.admin)).get ?? 0).toBe(gets);
  });

  it('stampede: 1000 concurrent misses on one key across 3 instances run the loader exactly once', async () => {
    let loads = 0;
    const loader = async (): Promise<{ n: number }> => {
      loads++;
      await sleep(150);
      return { n: 42 };
    };
    const calls = Array.from({ length: 1000 }, (_, i) => users(i % 3).getOrSet('hot', loader));
    const results = await Promise.all(calls);
    expect(loads).toBe(1);
    expect(results.every((r) => r.n === 42)).toBe(true);
    expect(await redis.admin.exists('cache:{users}:\u001flock:hot')).toBe(0); // released by its owner
  });

  it('@Cacheable: 1000 concurrent calls across 3 instances run the method once', async () => {
    trackLoads = 0;
    const services = instances.map((i) => i.moduleRef.get(TrackService));
    const results = await Promise.all(Array.from({ length: 1000 }, (_, n) => services[n % 3].track('t1')));
    expect(trackLoads).toBe(1);
    expect(results.every((r) => r.id === 't1')).toBe(true);
  });

  it('after a bus disconnect, L1 is bypassed and then resynced: a message missed meanwhile is never served from L1', async () => {
    await users(0).set('k', 'v1');
    await until(() => users(1).stats().bus!.received >= 1, 2_000);
    expect(await users(1).get('k')).toBe('v1'); // in instance 1's L1 now
    const resyncs = users(1).stats().bus!.resyncs;
    // Cut every subscriber connection: the invalidation published next may be lost.
    await redis.admin.client('KILL', 'TYPE', 'PUBSUB');
    await users(0).set('k', 'v2');
    // Instance 1 never answers its old L1 copy again: first it reads through to Redis, then its L1 is cleared.
    await until(async () => (await users(1).get('k')) === 'v2', 3_000);
    await until(() => users(1).stats().bus!.resyncs > resyncs && users(1).stats().bus!.connected, 5_000);
    expect(await users(1).get('k')).toBe('v2');
  });

  it('after a resync, L1 copies stay as stale copies: read through while Redis answers, answered when Redis is slower than softTimeout', async () => {
    const pair = await Promise.all([0, 1].map(() => startInstance(redis.server.url, {
      namespaces: { users: { backend: 'redis', ttl: '1h', l1: {}, failSafe: { grace: '1h', softTimeout: '50ms' } } },
    })));
    try {
      const [a, b] = pair.map((p) => p.cache.namespace('users'));
      await a.set('s', 'v1');
      await until(() => b.stats().bus!.received >= 1, 2_000);
      expect(await b.get('s')).toBe('v1'); // in b's L1 now
      const resync = async (): Promise<void> => {
        const resyncs = b.stats().bus!.resyncs;
        await redis.admin.client('KILL', 'TYPE', 'PUBSUB');
        await until(() => b.stats().bus!.resyncs > resyncs && b.stats().bus!.connected, 5_000);
      };
      await resync();
      expect(b.stats().entries).toBe(1); // kept, but no longer fresh:
      const l2Hits = b.stats().tiers!.l2!.hits;
      expect(await b.get('s')).toBe('v1');
      expect(b.stats().tiers!.l2!.hits).toBe(l2Hits + 1); // read from Redis, which refreshed the copy
      await resync();
      await redis.admin.call('CLIENT', 'PAUSE', '600', 'ALL');
      const t0 = Date.now();
      expect(await b.get('s')).toBe('v1');
      expect(Date.now() - t0).toBeLessThan(400);
      expect(b.stats().staleServed).toBe(1);
    } finally {
      await Promise.all(pair.map((p) => p.moduleRef.close()));
    }
  });

  it('after a resync, an entry Redis no longer has is never answered from the old L1 copy, not even by fail-safe', async () => {
    const pair = await Promise.all([0, 1].map(() => startInstance(redis.server.url, {
      namespaces: { users: { backend: 'redis', ttl: '1h', l1: {}, failSafe: { grace: '1h', softTimeout: '50ms' } } },
    })));
    try {
      const [a, b] = pair.map((p) => p.cache.namespace('users'));
      await a.set('revoked', 'old-role');
      await until(() => b.stats().bus!.received >= 1, 2_000);
      expect(await b.get('revoked')).toBe('old-role'); // in b's L1 now
      const resyncs = b.stats().bus!.resyncs;
      await redis.admin.client('KILL', 'TYPE', 'PUBSUB');
      // The invalidation b misses while its subscriber is down (here: the entry removed in Redis).
      await redis.admin.del('cache:{users}:revoked');
      await until(() => b.stats().bus!.resyncs > resyncs && b.stats().bus!.connected, 5_000);
      expect(await b.get('revoked')).toBeUndefined(); // Redis says: no such entry
      await expect(b.getOrSet('revoked', () => { throw new Error('source down'); })).rejects.toThrow('source down');
      expect(b.stats().staleServed).toBe(0);
    } finally {
      await Promise.all(pair.map((p) => p.moduleRef.close()));
    }
  });

  it('the read soft timeout answers only a copy within its TTL: an expired one waits for Redis', async () => {
    const one = await startInstance(redis.server.url, {
      namespaces: { users: { backend: 'redis', ttl: '1h', l1: {}, failSafe: { grace: '1h', softTimeout: '50ms' } } },
    });
    try {
      const ns = one.cache.namespace('users');
      await ns.set('short', 'v1', { ttl: 100 });
      await sleep(150); // past its TTL, within grace: the L1 copy is stale
      // Redis answers only after 300 ms, well past the 50 ms soft timeout.
      await redis.admin.call('CLIENT', 'PAUSE', '300', 'ALL');
      expect(await ns.get('short')).toBeUndefined(); // Redis's answer (past its logical expiry), not the stale copy
      expect(ns.stats().staleServed).toBe(0);
    } finally {
      await one.moduleRef.close();
    }
  });

  it('a lock whose holder died does not block the others past the lock TTL', async () => {
    // Another process took the lock and died without releasing it.
    await redis.admin.set('cache:{users}:\u001flock:orphan', 'dead-holder-token', 'PX', 300);
    let loads = 0;
    const value = await users(0).getOrSet('orphan', () => {
      loads++;
      return 'loaded';
    });
    expect(value).toBe('loaded');
    expect(loads).toBe(1);
  });

  it('early refresh across instances: the instance that gets the lock reloads, the others keep answering the cached value', async () => {
    const early = (i: number): ReturnType<CacheService['namespace']> => instances[i].cache.namespace('early');
    let loads = 0;
    const loader = async (): Promise<string> => {
      loads++;
      await sleep(100);
      return `v${loads}`;
    };
    expect(await early(0).getOrSet('e', loader, { ttl: 1_000 })).toBe('v1');
    await until(() => early(1).stats().bus!.received >= 1 && early(2).stats().bus!.received >= 1, 2_000);
    for (const i of [1, 2]) expect(await early(i).getOrSet('e', loader, { ttl: 1_000 })).toBe('v1');
    await sleep(600); // past half of the TTL (due for a refresh), well before its end on a loaded machine
    expect(await Promise.all([0, 1, 2].map((i) => early(i).getOrSet('e', loader, { ttl: 1_000 })))).toEqual(['v1', 'v1', 'v1']);
    for (const i of [0, 1, 2]) await until(async () => (await early(i).get('e')) === 'v2', 2_000);
    expect(loads).toBe(2);
  });

  it('a loader that throws under the lock fails its callers and frees the lock for the next load', async () => {
    const outcomes = await Promise.allSettled([0, 1, 2].map((i) => users(i).getOrSet('bad', () => Promise.reject(new Error('boom')))));
    expect(outcomes.map((o) => o.status === 'rejected' && (o.reason as Error).message)).toEqual(['boom', 'boom', 'boom']);
    await until(async () => (await redis.admin.exists('cache:{users}:\u001flock:bad')) === 0, 2_000);
    expect(await users(1).getOrSet('bad', () => 'ok')).toBe('ok');
  });
});

describe('Lua scripts (one key each, under the namespace hash tag)', () => {
  const redis = useRedisServer();
  let client: ScriptedRedis;
  beforeAll(() => {
    client = defineCacheScripts(redis.admin);
  });

  it('lock: SET NX PX with a token; release and extend only by the owner', async () => {
    const lock = new RedisLock(client, 'cache:{users}:', 'users');
    const token = await lock.acquire('k', 1_000);
    expect(token).toEqual(expect.any(String));
    expect(await lock.acquire('k', 1_000)).toBeUndefined();
    expect(await lock.release('k', 'not-the-owner')).toBe(false);
    expect(await lock.extend('k', 'not-the-owner', 60_000)).toBe(false);
    expect(await client.pttl('cache:{users}:\u001flock:k')).toBeLessThanOrEqual(1_000);
    expect(await lock.extend('k', token!, 60_000)).toBe(true);
    expect(await client.pttl('cache:{users}:\u001flock:k')).toBeGreaterThan(50_000);
    expect(await lock.isHeld('k')).toBe(true);
    expect(await lock.release('k', token!)).toBe(true);
    expect(await lock.isHeld('k')).toBe(false);
    expect(await lock.release('k', token!)).toBe(false);
  });

  it('get-and-refresh-TTL reads the value and resets its TTL atomically; a miss stays a miss', async () => {
    const backend = new RedisBackend(client, 'cache:{users}:', 'users');
    await client.set('cache:{users}:s', 'payload', 'PX', 1_000);
    expect(await backend.getAndRefreshTtl('s', 60_000)).toBe('payload');
    expect(await client.pttl('cache:{users}:s')).toBeGreaterThan(50_000);
    expect(await backend.getAndRefreshTtl('missing', 60_000)).toBeUndefined();
    expect(await client.exists('cache:{users}:missing')).toBe(0);
  });

  it('scripts are reloaded after SCRIPT FLUSH (EVALSHA falls back on NOSCRIPT)', async () => {
    const lock = new RedisLock(client, 'cache:{users}:', 'users');
    await client.script('FLUSH');
    expect(await lock.acquire('after-flush', 1_000)).toEqual(expect.any(String));
  });

  it('concurrent gets of one tick go out as one MGET', async () => {
    const backend = new RedisBackend(client, 'cache:{users}:', 'users');
    await client.mset('cache:{users}:a', '1', 'cache:{users}:b', '2');
    const monitor = await client.monitor();
    const seen: string[] = [];
    monitor.on('monitor', (_t: string, args: string[]) => seen.push(args[0].toLowerCase()));
    expect(await Promise.all([backend.get('a'), backend.get('b'), backend.get('c')])).toEqual(['1', '2', undefined]);
    await sleep(50);
    monitor.disconnect();
    expect(seen.filter((c) => c === 'get' || c === 'mget')).toEqual(['mget']);
  });
});
