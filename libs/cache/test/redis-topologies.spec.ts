/**
 * The Redis backend on the three topologies it runs on, against real servers started on loopback
 * ports: a standalone redis-server, a Sentinel group (1 master, 1 replica, 3 sentinels) and a
 * Cluster (3 masters, 3 replicas). The backend contract runs on Sentinel and Cluster here (on
 * standalone in backend-contract.spec.ts); the namespace and tag operations run on all three;
 * Cluster-specific checks: slots of namespace keys and tag sets (CLUSTER KEYSLOT), bulk commands and
 * clear across slots and masters, and the connection pool.
 */
import { Test, TestingModule } from '@nestjs/testing';
import Redis, { Cluster } from 'ioredis';
import { RedisClusterHandle, startRedisCluster } from '../../../test/support/redis-cluster';
import { askNode, RedisSentinelGroup, startRedisSentinelGroup } from '../../../test/support/redis-sentinel';
import { RedisServer, startRedisServer } from '../../../test/support/redis-server';
import { RedisBackendFactory } from '../src/backends/redis/redis-backend.factory';
import { RedisConnectionOptions } from '../src/backends/redis/redis-connection-options';
import { keySlot } from '../src/backends/redis/topology/key-slot';
import { CacheModule } from '../src/cache.module';
import { CacheService } from '../src/cache.service';
import { TagsUnsupportedError } from '../src/errors/tags-unsupported.error';
import { describeBackendContract } from './backend-contract';

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
