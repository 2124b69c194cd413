/**
 * Redis key tracking on Sentinel (1 master, 1 replica, 3 sentinels), two app instances whose L1s are
 * kept coherent by tracking alone: writes of a plain ioredis client (through the sentinels) and of
 * `redis-cli` invalidate both L1s, before and after the master is killed (SIGKILL); after the
 * promotion tracking is enabled again on the new master (its command connections redirect to the
 * instances' new redirect connections there) and the L1s are resynced.
 */
import { Test, TestingModule } from '@nestjs/testing';
import Redis from 'ioredis';
import { runRedisCli, sleep } from '../../../test/support/redis-server';
import { askNode, RedisSentinelGroup, startRedisSentinelGroup, waitUntil } from '../../../test/support/redis-sentinel';
import { CacheModule } from '../src/cache.module';
import { CacheService } from '../src/cache.service';
import { CacheNamespace } from '../src/namespace/cache-namespace';

describe('key tracking on Sentinel, across a failover', () => {
  let group: RedisSentinelGroup;
  let instances: TestingModule[] = [];
  let outsider: Redis;
  let promotedAt = 0;
  const users = (i: number): CacheNamespace => instances[i].get(CacheService).namespace('users');

  beforeAll(async () => {
    group = await startRedisSentinelGroup({ downAfterMs: 1_000 });
    instances = await Promise.all([0, 1].map(async () => {
      const moduleRef = await Test.createTestingModule({
        imports: [CacheModule.forRoot({
          redis: { sentinel: { name: group.masterName, sentinels: group.sentinelAddresses } },
          trackingHeartbeat: '100ms',
          namespaces: { users: { backend: 'redis', ttl: '1h', l1: { coherence: 'tracking' }, failSafe: { grace: '1h', softTimeout: '100ms' } } },
        })],
      }).compile();
      await moduleRef.init();
      return moduleRef;
    }));
    outsider = new Redis({ sentinels: group.sentinelAddresses, name: group.masterName, failoverDetector: true });
    outsider.on('error', () => undefined);
    await waitUntil(15_000, 'tracking did not connect', async () => [0, 1].every((i) => users(i).stats().tracking?.connected === true), 10);
  }, 60_000);
  afterAll(async () => {
    // ioredis ends its streams to the dead master with a 2 s destroy timer nothing clears (see sentinel-failover.spec).
    await sleep(Math.max(0, promotedAt + 2_500 - Date.now()));
    outsider?.disconnect();
    await Promise.all(instances.map((m) => m.close()));
    await group?.stop();
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

  it('invalidates both L1s on outside writes before and after the master is killed', async () => {
    await users(0).set('u1', 'v0');
    await cachedEverywhere('u1', 'v0');
    await outsider.set('cache:{users}:u1', '"v1"');
    await seenEverywhere('u1', 'v1');

    const oldMaster = group.master.port;
    await group.master.kill('SIGKILL');
    const newMaster = await group.waitForNewMaster(oldMaster, 15_000);
    promotedAt = Date.now();
    await waitUntil(20_000, 'tracking re-enabled on the promoted master', async () => [0, 1].every((i) => {
      const t = users(i).stats().tracking!;
      return t.connected && t.resyncs >= 1;
    }), 20);

    // On the promoted master: each instance's command connection tracks into its redirect connection there.
    const list = await askNode(newMaster, (r) => r.client('LIST') as Promise<string>);
    const entries = list.trim().split('\n').map((line) => Object.fromEntries(line.split(' ').map((f) => f.split('=', 2))));
    const redirects = entries.filter((c) => c.name === 'nest-cachekit:tracking').map((c) => c.id);
    const commands = entries.filter((c) => c.name === 'nest-cachekit');
    expect(redirects).toHaveLength(2);
    expect(commands).toHaveLength(2);
    for (const c of commands) expect(redirects).toContain(c.redir);

    await cachedEverywhere('u1', 'v1');
    await outsider.set('cache:{users}:u1', '"v2"');
    await seenEverywhere('u1', 'v2');
    await cachedEverywhere('u1', 'v2');
    await runRedisCli(['-h', '127.0.0.1', '-p', String(newMaster), 'SET', 'cache:{users}:u1', '"v3"']);
    await seenEverywhere('u1', 'v3');
  }, 60_000);
});
