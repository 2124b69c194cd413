/**
 * The Redis backend on the three topologies it runs on, against real servers started on loopback
 * ports: a standalone redis-server, a Sentinel group (1 master, 1 replica, 3 sentinels) and a
 * Cluster (3 masters, 3 replicas). The backend contract runs on Sentinel and Cluster here (on
 * standalone in backend-contract.spec.ts); the namespace and tag operations run on all three;
 * Cluster-specific checks: slots of namespace keys and tag sets (CLUSTER KEYSLOT), bulk commands and
 * clear across slots and masters, and the connection pool. Tiers (L1 + the invalidation bus on the
 * pool's subscriber connection), the lock and every Lua script also run on all three.
 */
import { randomBytes } from 'node:crypto';
import { Test, TestingModule } from '@nestjs/testing';
import Redis, { Cluster } from 'ioredis';
import { RedisClusterHandle, startRedisCluster } from '../../../test/support/redis-cluster';
import { askNode, RedisSentinelGroup, startRedisSentinelGroup, waitUntil } from '../../../test/support/redis-sentinel';
import { RedisServer, startRedisServer } from '../../../test/support/redis-server';
import { OversizedPayload } from '../src/backends/cache-backend.interface';
import { RedisBackend } from '../src/backends/redis/redis-backend';
import { RedisBackendFactory } from '../src/backends/redis/redis-backend.factory';
import { RedisConnectionOptions } from '../src/backends/redis/redis-connection-options';
import { RedisLock } from '../src/backends/redis/redis-lock';
import { keySlot } from '../src/backends/redis/topology/key-slot';
import { CacheModule } from '../src/cache.module';
import { CacheService } from '../src/cache.service';
import { TagsUnsupportedError } from '../src/errors/tags-unsupported.error';
import { describeBackendContract } from '../src/testing';

let standalone: RedisServer;
let sentinel: RedisSentinelGroup;
let cluster: RedisClusterHandle;

beforeAll(async () => {
  [standalone, sentinel, cluster] = await Promise.all([
    startRedisServer(),
    // Not a failover test: a generous down-after so that a busy CI machine does not trigger one.
    startRedisSentinelGroup({ downAfterMs: 5_000 }),
    startRedisCluster({ nodeTimeoutMs: 5_000 }),
  ]);
}, 60_000);
afterAll(async () => {
  await Promise.all([standalone?.stop(), sentinel?.stop(), cluster?.stop()]);
});

const sentinelOptions = (): RedisConnectionOptions => ({ sentinel: { name: sentinel.masterName, sentinels: sentinel.sentinelAddresses } });
const clusterOptions = (): RedisConnectionOptions => ({ cluster: { nodes: cluster.seeds } });

async function flushTopology(name: 'standalone' | 'sentinel' | 'cluster'): Promise<void> {
  if (name === 'standalone') await askNode(standalone.port, (r) => r.flushall());
  if (name === 'sentinel') await askNode(await sentinel.currentMasterPort(), (r) => r.flushall());
  if (name === 'cluster') {
    // Each node's own view of its role (another node's gossip view can lag just after creation).
    await Promise.all(cluster.nodes.map((n) => askNode(n.port, async (r) => {
      if (/role:master/.test(await r.info('replication'))) await r.flushall();
    })));
  }
}

/** GET, MGET and script (EVAL, EVALSHA) calls served so far by the data nodes of a topology (INFO commandstats). */
async function commandCalls(name: 'standalone' | 'sentinel' | 'cluster'): Promise<{ get: number; mget: number; scripts: number }> {
  const ports = name === 'standalone' ? [standalone.port] : name === 'sentinel' ? [await sentinel.currentMasterPort()] : cluster.nodes.map((n) => n.port);
  const totals = { get: 0, mget: 0, scripts: 0 };
  for (const port of ports) {
    const info = await askNode(port, (r) => r.info('commandstats'));
    totals.get += Number(/^cmdstat_get:calls=(\d+)/m.exec(info)?.[1] ?? 0);
    totals.mget += Number(/^cmdstat_mget:calls=(\d+)/m.exec(info)?.[1] ?? 0);
    totals.scripts += Number(/^cmdstat_evalsha:calls=(\d+)/m.exec(info)?.[1] ?? 0) + Number(/^cmdstat_eval:calls=(\d+)/m.exec(info)?.[1] ?? 0);
  }
  return totals;
}

for (const [name, options] of [['sentinel', sentinelOptions], ['cluster', clusterOptions]] as const) {
  describe(`on ${name}`, () => {
    let factory: RedisBackendFactory | undefined;
    describeBackendContract(`redis (${name})`, {
      setUp: async () => {
        await flushTopology(name);
        factory = new RedisBackendFactory(options());
        await factory.connect();
        return factory;
      },
      tearDown: async () => {
        await factory?.close();
      },
    });
  });
}

describe.each(['standalone', 'sentinel', 'cluster'] as const)('namespace and tag operations on %s', (name) => {
  let moduleRef: TestingModule;
  let cache: CacheService;
  beforeEach(async () => {
    await flushTopology(name);
    const redis = name === 'standalone' ? { url: standalone.url } : name === 'sentinel' ? sentinelOptions() : clusterOptions();
    moduleRef = await Test.createTestingModule({
      imports: [CacheModule.forRoot({ redis, defaults: { backend: 'redis' }, namespaces: { users: { ttl: '1h' }, tracks: {}, loose: { keyPrefix: 'loose:' } } })],
    }).compile();
    await moduleRef.init();
    cache = moduleRef.get(CacheService);
  });
  afterEach(() => moduleRef.close());

  it('sets with tags, invalidates a tag, mget/mset, and clears one namespace only', async () => {
    const users = cache.namespace('users');
    const tracks = cache.namespace('tracks');
    await users.set('u1', { n: 1 }, { tags: ['artist:7', 'genre:soul'] });
    await users.set('u2', { n: 2 }, { tags: ['artist:7'], ttl: '10m' });
    await users.mset([{ key: 'u3', value: 3, tags: ['genre:soul'] }, { key: 'u4', value: 4 }]);
    await tracks.set('t1', 'blue', { tags: ['artist:7'] });
    expect(await users.invalidateTag('artist:7')).toBe(2);
    expect(await users.mget(['u1', 'u2', 'u3', 'u4'])).toEqual([undefined, undefined, 3, 4]);
    expect(await tracks.get('t1')).toBe('blue');
    expect(await users.invalidateTag('genre:soul')).toBe(1);
    expect(await users.clear()).toBe(1);
    expect(await users.get('u4')).toBeUndefined();
    expect(await tracks.get('t1')).toBe('blue');
  });

  it('handles a namespace whose custom prefix has no hash tag: bulk commands and clear across slots', async () => {
    const loose = cache.namespace('loose');
    const keys = Array.from({ length: 60 }, (_, i) => `k${i}`);
    await loose.mset(keys.map((key, i) => ({ key, value: i })));
    expect(await loose.mget(keys)).toEqual(keys.map((_, i) => i));
    await cache.namespace('users').set('kept', 1);
    expect(await loose.clear()).toBe(60);
    expect(await loose.mget(keys.slice(0, 5))).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(await cache.namespace('users').get('kept')).toBe(1);
  });
});

describe('Cluster specifics', () => {
  let admin: Cluster;
  beforeAll(async () => {
    admin = new Cluster(cluster.seeds);
    await admin.ping();
  });
  afterAll(() => admin.disconnect());

  it('computes the same hash slot as CLUSTER KEYSLOT, hash tags included', async () => {
    const keys = ['users:1', 'users:2', '{users}:1', '{users}:2', 'cache:{users}:spotify:user:123', 'cache:{users}:\u001ftag:artist:7',
      'a{}b', '{}{x}', 'ключ', 'x{y', 'p{a}{b}', '', '{tracks}:t1'];
    for (const key of keys) expect(keySlot(key)).toBe(await admin.cluster('KEYSLOT', key));
  });

  it('keeps a namespace\'s entries and tag sets in one slot on the cluster', async () => {
    await flushTopology('cluster');
    const moduleRef = await Test.createTestingModule({
      imports: [CacheModule.forRoot({ redis: clusterOptions(), defaults: { backend: 'redis' }, namespaces: { users: {} } })],
    }).compile();
    await moduleRef.init();
    try {
      await moduleRef.get(CacheService).namespace('users').set('u1', 1, { tags: ['artist:7', 'genre:x'] });
      const masters = (await cluster.describe()).filter((n) => n.role === 'master');
      const found = (await Promise.all(masters.map((m) => askNode(m.port, (r) => r.keys('cache:{users}:*'))))).flat();
      expect(found.sort()).toEqual(['cache:{users}:u1', 'cache:{users}:\u001ftag:artist:7', 'cache:{users}:\u001ftag:genre:x'].sort());
      const slots = await Promise.all(found.map((k) => admin.cluster('KEYSLOT', k)));
      expect(new Set(slots).size).toBe(1);
    } finally {
      await moduleRef.close();
    }
  });

  it('refuses tags on a namespace without a hash tag, with a typed error', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [CacheModule.forRoot({ redis: clusterOptions(), defaults: { backend: 'redis' }, namespaces: { loose: { keyPrefix: 'loose:' } } })],
    }).compile();
    await moduleRef.init();
    try {
      const loose = moduleRef.get(CacheService).namespace('loose');
      await expect(loose.set('a', 1, { tags: ['t'] })).rejects.toBeInstanceOf(TagsUnsupportedError);
      await expect(loose.invalidateTag('t')).rejects.toThrow(/hash tag/);
      expect(await loose.get('a')).toBeUndefined();
    } finally {
      await moduleRef.close();
    }
  });
});

describe('connection pool', () => {
  it.each(['standalone', 'cluster'] as const)('spreads commands round-robin over the command connections (%s)', async (name) => {
    const factory = new RedisBackendFactory({ ...(name === 'standalone' ? { url: standalone.url } : clusterOptions()), pool: { commandConnections: 3 } });
    await factory.connect();
    try {
      const pool = factory.connections;
      expect(pool.commandConnections).toHaveLength(3);
      const seen = new Set(Array.from({ length: 6 }, () => pool.next()));
      expect(seen.size).toBe(3);
      const backend = factory.create({ namespace: 'p', keyPrefix: 'pool:{p}:', maxEntries: 1, maxBytes: 0, eviction: () => { throw new Error('unused'); } });
      await Promise.all(Array.from({ length: 30 }, (_, i) => backend.set(`k${i}`, String(i), 0, 1)));
      expect(await backend.mget(['k0', 'k29'])).toEqual(['0', '29']);
      // Each command connection is a separate server connection (on the cluster: to the slot's master).
      const slot = keySlot('pool:{p}:k0');
      const port = name === 'standalone'
        ? standalone.port
        : (await cluster.describe()).find((n) => n.role === 'master' && n.slots.some(([a, b]) => slot >= a && slot <= b))!.port;
      const clients = await askNode(port, (r) => r.client('LIST') as Promise<string>);
      expect((clients.match(/name=nest-cachekit /g) ?? []).length).toBe(3);
    } finally {
      await factory.close();
    }
  });

  it.each(['standalone', 'sentinel', 'cluster'] as const)('gives pub/sub its own connection, which receives what is published (%s)', async (name) => {
    const options = name === 'standalone' ? { url: standalone.url } : name === 'sentinel' ? sentinelOptions() : clusterOptions();
    const factory = new RedisBackendFactory(options);
    await factory.connect();
    try {
      const subscriber = factory.connections.createSubscriber();
      const received = new Promise<string>((resolve) => subscriber.on('message', (_channel: string, message: string) => resolve(message)));
      await subscriber.subscribe('cache:{bus}:invalidate');
      // The command connection stays usable for commands while the subscriber is in SUBSCRIBE mode.
      await factory.connections.next().publish('cache:{bus}:invalidate', 'users:u1');
      expect(await received).toBe('users:u1');
      expect(await factory.connections.next().ping()).toBe('PONG');
    } finally {
      await factory.close();
    }
  });

  it('runs blocking commands on a connection without the command timeout', async () => {
    const factory = new RedisBackendFactory({ url: standalone.url, commandTimeoutMs: 50 });
    await factory.connect();
    try {
      const commands = factory.connections.next() as Redis;
      await expect(commands.blpop('pool:{b}:queue', 0.3)).rejects.toThrow(/timed out/);
      const blocking = factory.connections.blocking() as Redis;
      expect(await blocking.blpop('pool:{b}:queue', 0.3)).toBeNull();
      expect(factory.connections.blocking()).toBe(blocking);
    } finally {
      await factory.close();
    }
  });
});

describe.each(['standalone', 'sentinel', 'cluster'] as const)('tiers, invalidation bus, lock and every Lua script on %s', (name) => {
  /** The bus secret every instance shares: a random key, as the module requires. */
  const SECRET = randomBytes(32).toString('base64');
  const redisOptions = (): RedisConnectionOptions => (name === 'standalone' ? { url: standalone.url } : name === 'sentinel' ? sentinelOptions() : clusterOptions());
  let instances: TestingModule[];
  const users = (i: number): ReturnType<CacheService['namespace']> => instances[i].get(CacheService).namespace('users');

  beforeEach(async () => {
    await flushTopology(name);
    instances = await Promise.all([0, 1].map(async () => {
      const moduleRef = await Test.createTestingModule({
        imports: [CacheModule.forRoot({
          redis: redisOptions(),
          bus: { secret: SECRET, heartbeat: '100ms' },
          namespaces: { users: { backend: 'redis', ttl: '1h', l1: { maxEntries: 100 }, failSafe: { grace: '1h' }, lock: { ttl: '2s', pollInterval: '10ms' } } },
        })],
      }).compile();
      await moduleRef.init();
      return moduleRef;
    }));
    await waitUntil(5_000, 'the bus did not connect', async () => [0, 1].every((i) => users(i).stats().bus?.connected === true), 10);
  });
  afterEach(async () => {
    await Promise.all(instances.map((m) => m.close()));
  });

  it('an invalidation from one instance reaches the other over the pool\'s subscriber connection', async () => {
    await users(0).set('u1', { v: 1 });
    expect(await users(1).get('u1')).toEqual({ v: 1 }); // now in instance 1's L1
    const received = users(1).stats().bus!.received;
    await users(0).set('u1', { v: 2 });
    await waitUntil(2_000, 'the invalidation did not arrive', async () => users(1).stats().bus!.received > received, 5);
    expect(await users(1).get('u1')).toEqual({ v: 2 });
    await users(0).set('tagged', 1, { tags: ['artist:7'] });
    expect(await users(1).get('tagged')).toBe(1);
    expect(await users(0).invalidateTag('artist:7')).toBe(1);
    await waitUntil(2_000, 'the tag invalidation did not arrive', async () => (await users(1).get('tagged')) === undefined, 5);
  });

  it('runs the loader once across instances under the Redis lock (acquire/release scripts)', async () => {
    let loads = 0;
    const loader = async (): Promise<string> => {
      loads++;
      await new Promise((r) => setTimeout(r, 100));
      return 'loaded';
    };
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => users(i % 2).getOrSet('hot', loader)));
    expect(results.every((r) => r === 'loaded')).toBe(true);
    expect(loads).toBe(1);
  });

  it('lock extend, get-and-refresh-TTL, replace- and delete-if-unchanged scripts, and one tick\'s gets batched into one MGET', async () => {
    const factory = new RedisBackendFactory(redisOptions());
    await factory.connect();
    try {
      const lock = new RedisLock(factory.connections, 'cache:{users}:', 'users');
      const token = await lock.acquire('k', 1_000);
      expect(token).toEqual(expect.any(String));
      expect(await lock.acquire('k', 1_000)).toBeUndefined();
      expect(await lock.extend('k', 'not-the-owner', 60_000)).toBe(false);
      expect(await lock.extend('k', token!, 60_000)).toBe(true);
      expect(await factory.connections.next().pttl('cache:{users}:\u001flock:k')).toBeGreaterThan(50_000);
      expect(await lock.release('k', token!)).toBe(true);
      expect(await lock.isHeld('k')).toBe(false);

      const backend = factory.create({ namespace: 'users', keyPrefix: 'cache:{users}:', maxEntries: 1, maxBytes: 0, eviction: () => { throw new Error('unused'); } }) as RedisBackend;
      await backend.set('s', 'payload', 1_000, 7);
      expect(await backend.getAndRefreshTtl('s', 60_000)).toBe('payload');
      expect(await factory.connections.next().pttl('cache:{users}:s')).toBeGreaterThan(50_000);
      expect(await backend.getAndRefreshTtl('missing', 60_000)).toBeUndefined();
      // The compare-and-swap and compare-and-delete scripts (re-encrypt-on-read, dropping a bad entry).
      expect(await backend.replaceIfUnchanged('s', 'other', 'x')).toBe(false);
      expect(await backend.replaceIfUnchanged('s', 'payload', 'resealed')).toBe(true);
      expect(await backend.deleteIfUnchanged('s', 'payload')).toBe(false);
      expect(await backend.deleteIfUnchanged('s', 'resealed')).toBe(true);
      expect(await backend.get('s')).toBeUndefined();
      const keys = Array.from({ length: 40 }, (_, i) => `b${i}`);
      await backend.mset(keys.map((key, i) => ({ key, value: String(i), ttlMs: 0, sizeBytes: 1 })));
      const before = await commandCalls(name);
      expect(await Promise.all(keys.map((k) => backend.get(k)))).toEqual(keys.map((_, i) => String(i)));
      const after = await commandCalls(name);
      expect([after.mget - before.mget, after.get - before.get]).toEqual([1, 0]);
    } finally {
      await factory.close();
    }
  });

  it('bounded reads (maxPayloadBytes): an entry over the limit is answered by its size and deleted, unread, in batched gets and mget; a single get reads one byte past the limit', async () => {
    const factory = new RedisBackendFactory(redisOptions());
    await factory.connect();
    try {
      const bounded = (namespace: string, keyPrefix: string): RedisBackend =>
        factory.create({ namespace, keyPrefix, maxEntries: 1, maxBytes: 0, maxPayloadBytes: 100, eviction: () => { throw new Error('unused'); } }) as RedisBackend;
      const backend = bounded('users', 'cache:{users}:');
      const loose = bounded('loose', 'loose:');
      const MB = 1024 * 1024;
      const big = 'x'.repeat(MB);
      const oversized = new OversizedPayload(MB);
      const plant = (b: RedisBackend, key: string): Promise<void> => b.set(key, big, 0, MB);
      await backend.set('ok', 'y'.repeat(100), 0, 100);
      await loose.mset(['a', 'b', 'd', 'e', 'f'].map((key) => ({ key, value: key, ttlMs: 0, sizeBytes: 1 })));
      // Bytes the data nodes sent to clients (not to their replicas; the tiers' bus included: a few kB here).
      const sent = async (): Promise<number> => {
        const ports = name === 'standalone' ? [standalone.port] : name === 'sentinel' ? [await sentinel.currentMasterPort()] : cluster.nodes.map((n) => n.port);
        let total = 0;
        for (const port of ports) {
          const stats = await askNode(port, (r) => r.info('stats'));
          total += Number(/^total_net_output_bytes:(\d+)/m.exec(stats)![1]) - Number(/^total_net_repl_output_bytes:(\d+)/m.exec(stats)![1]);
        }
        return total;
      };
      const before = await sent();

      await plant(backend, 'big');
      // A get alone in its tick: GETRANGE 0..100, 101 bytes; the entry stays for the namespace to drop.
      expect(await backend.get('big')).toEqual(new OversizedPayload(101));
      expect(await backend.has('big')).toBe(true);

      const calls = await commandCalls(name);
      expect(await Promise.all(['big', 'ok', 'none'].map((k) => backend.get(k)))).toEqual([oversized, 'y'.repeat(100), undefined]);
      const batched = await commandCalls(name);
      // One tick's gets: the drop script, then one MGET, which no longer finds the oversized entry.
      expect([batched.scripts - calls.scripts, batched.mget - calls.mget, batched.get - calls.get]).toEqual([1, 1, 0]);
      expect(await backend.has('big')).toBe(false);

      await plant(backend, 'big');
      expect(await backend.mget(['ok', 'big'])).toEqual(['y'.repeat(100), oversized]);
      // Keys in several slots on the cluster: a drop script and an MGET per slot.
      await plant(loose, 'c');
      expect(await loose.mget(['a', 'b', 'c', 'd', 'e', 'f'])).toEqual(['a', 'b', oversized, 'd', 'e', 'f']);
      expect(await loose.has('c')).toBe(false);

      await plant(backend, 'big');
      expect(await backend.getAndRefreshTtl('big', 60_000)).toEqual(oversized);
      // The five oversized values would have been 5 MB.
      expect(await sent() - before).toBeLessThan(MB / 2);

      // Compare-and-delete with the marker: a value rewritten within the limit since the read stays.
      await backend.set('ok', 'fits', 0, 4);
      expect(await backend.deleteIfUnchanged('ok', oversized)).toBe(false);
      expect(await backend.get('ok')).toBe('fits');
      expect(await backend.deleteIfUnchanged('big', oversized)).toBe(true);
      expect(await backend.has('big')).toBe(false);
      // A value over the limit given to compare (one planted between a batch's script and its MGET)
      // is not sent back: the entry goes if it is still over the limit.
      await plant(backend, 'big');
      const received = async (): Promise<number> => {
        const ports = name === 'standalone' ? [standalone.port] : name === 'sentinel' ? [await sentinel.currentMasterPort()] : cluster.nodes.map((n) => n.port);
        let total = 0;
        for (const port of ports) {
          const stats = await askNode(port, (r) => r.info('stats'));
          total += Number(/^total_net_input_bytes:(\d+)/m.exec(stats)![1]) - Number(/^total_net_repl_input_bytes:(\d+)/m.exec(stats)![1]);
        }
        return total;
      };
      const inBefore = await received();
      expect(await backend.deleteIfUnchanged('big', big)).toBe(true);
      expect(await received() - inBefore).toBeLessThan(MB / 2);
      expect(await backend.has('big')).toBe(false);
    } finally {
      await factory.close();
    }
  });
});
