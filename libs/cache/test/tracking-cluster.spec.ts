/**
 * Redis key tracking on a Cluster (3 masters, 3 replicas), two app instances whose L1s are kept
 * coherent by tracking alone: tracking runs on every master (each master's command connections
 * redirect to a connection of the instance on that master); writes by a plain ioredis Cluster client
 * and by `redis-cli -c` invalidate both L1s, before and after the namespace's slot migrates to
 * another master (SETSLOT IMPORTING/MIGRATING, MIGRATE, SETSLOT NODE).
 */
import { Test, TestingModule } from '@nestjs/testing';
import Redis, { Cluster } from 'ioredis';
import { RedisClusterHandle, startRedisCluster } from '../../../test/support/redis-cluster';
import { askNode, waitUntil } from '../../../test/support/redis-sentinel';
import { runRedisCli } from '../../../test/support/redis-server';
import { keySlot } from '../src/backends/redis/topology/key-slot';
import { CacheModule } from '../src/cache.module';
import { CacheService } from '../src/cache.service';
import { CacheNamespace } from '../src/namespace/cache-namespace';

const SLOT = keySlot('cache:{users}:any');

describe('key tracking on a Cluster, across a slot migration', () => {
  let cluster: RedisClusterHandle;
  let instances: TestingModule[] = [];
  let outsider: Cluster;
  let killedAt = 0;
  const users = (i: number): CacheNamespace => instances[i].get(CacheService).namespace('users');

  beforeAll(async () => {
    cluster = await startRedisCluster({ nodeTimeoutMs: 2_000 });
    instances = await Promise.all([0, 1].map(async () => {
      const moduleRef = await Test.createTestingModule({
        imports: [CacheModule.forRoot({
          redis: { cluster: { nodes: cluster.seeds } },
          trackingHeartbeat: '100ms',
          namespaces: { users: { backend: 'redis', ttl: '1h', l1: { coherence: 'tracking' } } },
        })],
      }).compile();
      await moduleRef.init();
      return moduleRef;
    }));
    outsider = new Redis.Cluster(cluster.seeds);
    await waitUntil(10_000, 'tracking did not connect', async () => [0, 1].every((i) => users(i).stats().tracking?.connected === true), 10);
  }, 60_000);
  afterAll(async () => {
    // ioredis ends its streams to a dead node with a 2 s destroy timer nothing clears (see sentinel-failover.spec).
    await new Promise((r) => setTimeout(r, Math.max(0, killedAt + 2_500 - Date.now())));
    outsider?.disconnect();
    await Promise.all(instances.map((m) => m.close()));
    await cluster?.stop();
  });

  async function cachedEverywhere(key: string, value: unknown): Promise<void> {
    for (const i of [0, 1]) {
      await waitUntil(10_000, `${key} in the L1 of instance ${i}`, async () => {
        const hits = users(i).stats().tiers!.l1!.hits;
        const got = await users(i).get(key);
        return JSON.stringify(got) === JSON.stringify(value) && (await users(i).get(key)) !== undefined && users(i).stats().tiers!.l1!.hits > hits;
      }, 10);
    }
  }

  async function seenEverywhere(key: string, value: unknown): Promise<void> {
    for (const i of [0, 1]) {
      await waitUntil(10_000, `${key} = ${JSON.stringify(value)} on instance ${i}`, async () => JSON.stringify(await users(i).get(key)) === JSON.stringify(value), 10);
    }
  }

  async function clientList(port: number): Promise<Record<string, string>[]> {
    const list = await askNode(port, (r) => r.client('LIST') as Promise<string>);
    return list.trim().split('\n').map((line) => Object.fromEntries(line.split(' ').map((f) => f.split('=', 2))));
  }

  it('tracks on every master: each master\'s command connections redirect to a connection on that master', async () => {
    const masters = (await cluster.describe()).filter((n) => n.role === 'master');
    expect(masters).toHaveLength(3);
    for (const master of masters) {
      const entries = await clientList(master.port);
      const redirects = entries.filter((c) => c.name === 'nest-cachekit:tracking').map((c) => c.id);
      const tracked = entries.filter((c) => c.name === 'nest-cachekit' && c.flags.includes('t'));
      expect(redirects).toHaveLength(2);
      expect(tracked).toHaveLength(2);
      for (const c of tracked) expect(redirects).toContain(c.redir);
    }
  });

  it('invalidates both L1s on outside writes before and after the namespace\'s slot migrates', async () => {
    await users(0).set('u1', 'v0');
    await cachedEverywhere('u1', 'v0');
    await outsider.set('cache:{users}:u1', '"v1"');
    await seenEverywhere('u1', 'v1');
    await cachedEverywhere('u1', 'v1');

    const nodes = await cluster.describe();
    const source = nodes.find((n) => n.role === 'master' && n.slots.some(([a, b]) => SLOT >= a && SLOT <= b))!;
    const destination = nodes.find((n) => n.role === 'master' && n.id !== source.id)!;
    await askNode(destination.port, (r) => r.cluster('SETSLOT', SLOT, 'IMPORTING', source.id));
    await askNode(source.port, (r) => r.cluster('SETSLOT', SLOT, 'MIGRATING', destination.id));
    for (let batch = 0; batch < 100; batch++) {
      const keys = await askNode(source.port, (r) => r.cluster('GETKEYSINSLOT', SLOT, 100) as Promise<string[]>);
      if (keys.length === 0) break;
      await askNode(source.port, (r) => r.migrate('127.0.0.1', destination.port, '', 0, 5_000, 'KEYS', ...keys));
    }
    for (const node of nodes.filter((n) => n.role === 'master')) {
      await askNode(node.port, (r) => r.cluster('SETSLOT', SLOT, 'NODE', destination.id));
    }

    // After the move, the slot's new owner announces the writes.
    await waitUntil(10_000, 'tracking trusted after the migration', async () => [0, 1].every((i) => users(i).stats().tracking!.connected), 10);
    await seenEverywhere('u1', 'v1');
    await cachedEverywhere('u1', 'v1');
    await outsider.set('cache:{users}:u1', '"v2"');
    await seenEverywhere('u1', 'v2');
    await cachedEverywhere('u1', 'v2');
    await runRedisCli(['-c', '-h', '127.0.0.1', '-p', String(source.port), 'SET', 'cache:{users}:u1', '"v3"']);
    await seenEverywhere('u1', 'v3');
    expect(await askNode(destination.port, (r) => r.get('cache:{users}:u1'))).toBe('"v3"');
  }, 60_000);

  it('tracks the promoted replica when the slot\'s master is killed, and resyncs', async () => {
    await cachedEverywhere('u1', 'v3');
    const nodes = await cluster.describe();
    const owner = nodes.find((n) => n.role === 'master' && n.slots.some(([a, b]) => SLOT >= a && SLOT <= b))!;
    const resyncs = [0, 1].map((i) => users(i).stats().tracking!.resyncs);
    await cluster.node(owner.port).kill('SIGKILL');
    killedAt = Date.now();
    await cluster.waitForFailover(owner.port, 20_000);
    const promoted = (await cluster.describe()).find((n) => n.role === 'master' && n.slots.some(([a, b]) => SLOT >= a && SLOT <= b))!;
    expect(promoted.port).not.toBe(owner.port);
    await waitUntil(15_000, 'tracking trusted again, resynced', async () => [0, 1].every((i) => {
      const t = users(i).stats().tracking!;
      return t.connected && t.resyncs > resyncs[i];
    }), 20);
    // Trusted again only with the promoted master tracked (every slot's master is).
    const entries = await clientList(promoted.port);
    const redirects = entries.filter((c) => c.name === 'nest-cachekit:tracking').map((c) => c.id);
    expect(entries.filter((c) => c.name === 'nest-cachekit' && c.flags.includes('t') && redirects.includes(c.redir))).toHaveLength(2);
    await seenEverywhere('u1', 'v3');
    await cachedEverywhere('u1', 'v3');
    await outsider.set('cache:{users}:u1', '"v4"');
    await seenEverywhere('u1', 'v4');
  }, 60_000);
});
