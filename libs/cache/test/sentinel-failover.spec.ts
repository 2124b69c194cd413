/**
 * Sentinel failover under load, on real servers: 1 master, 1 replica, 3 sentinels (down-after 1 s),
 * and 3 app instances (3 CacheModule instances in this process), each with a tiered namespace (L1
 * memory + Redis L2 through Sentinel, default connection settings) and the invalidation bus. A
 * bounded load of reads of cached keys and writes runs on every instance; the master is killed by
 * its PID (SIGKILL) mid-load. Asserted: no read of a cached key fails or answers a wrong value; no
 * write fails; writes reach Redis again after the promotion by themselves; the bus reconnects (an
 * invalidation from instance A reaches B afterwards). Printed: promotion time and longest gaps.
 */
import { randomBytes } from 'node:crypto';
import { Test, TestingModule } from '@nestjs/testing';
import { KindReport, LoadWorker, startLoad } from '../../../test/support/fault-load';
import { askNode, RedisSentinelGroup, startRedisSentinelGroup, waitUntil } from '../../../test/support/redis-sentinel';
import { CacheModule } from '../src/cache.module';
import { CacheService } from '../src/cache.service';
import { CacheNamespace } from '../src/namespace/cache-namespace';

/** The bus secret every instance shares: a random key, as the module requires. */
const SECRET = randomBytes(32).toString('base64');
const CACHED_KEYS = 200;
const INSTANCES = 3;

describe('Sentinel: master killed (SIGKILL) under load from 3 app instances', () => {
  let group: RedisSentinelGroup;
  let instances: TestingModule[] = [];
  let promotedAt = 0;
  const users = (i: number): CacheNamespace => instances[i].get(CacheService).namespace('users');

  beforeAll(async () => {
    group = await startRedisSentinelGroup({ downAfterMs: 1_000 });
    instances = await Promise.all(Array.from({ length: INSTANCES }, async () => {
      const moduleRef = await Test.createTestingModule({
        imports: [CacheModule.forRoot({
          redis: { sentinel: { name: group.masterName, sentinels: group.sentinelAddresses } },
          bus: { secret: SECRET, heartbeat: '100ms' },
          namespaces: { users: { backend: 'redis', ttl: '1h', l1: { maxEntries: 10_000 }, failSafe: { grace: '1h', softTimeout: '100ms' } } },
        })],
      }).compile();
      await moduleRef.init();
      return moduleRef;
    }));
    await waitUntil(5_000, 'the bus did not connect', async () => instances.every((_, i) => users(i).stats().bus?.connected === true), 10);
  }, 60_000);
  afterAll(async () => {
    // At +switch-master ioredis ends its streams to the dead master with a 2 s destroy timer
    // (disconnectTimeout) that nothing clears; let those run out so that Jest exits at once.
    await new Promise((r) => setTimeout(r, Math.max(0, promotedAt + 2_500 - Date.now())));
    await Promise.all(instances.map((m) => m.close()));
    await group?.stop();
  });

  it('keeps serving cached keys, resumes writes on the promoted master, and the bus reconnects', async () => {
    await users(0).mset(Array.from({ length: CACHED_KEYS }, (_, k) => ({ key: `c${k}`, value: { v: k } })));
    // Every instance has every cached key in its L1 (filled once the mset's own invalidation has
    // reached the others: a fill that races an invalidation is skipped).
    await waitUntil(2_000, 'the mset invalidation did not arrive', async () => [1, 2].every((i) => users(i).stats().bus!.received >= 1), 5);
    for (let i = 0; i < INSTANCES; i++) for (let k = 0; k < CACHED_KEYS; k++) await users(i).get(`c${k}`);
    for (let i = 0; i < INSTANCES; i++) expect(users(i).stats().entries).toBe(CACHED_KEYS);

    const oldMasterPort = group.master.port;
    const lastWritten: string[] = [];
    const acknowledgedAfterPromotion = new Set<number>();
    const workers: LoadWorker[] = [];
    for (let i = 0; i < INSTANCES; i++) {
      workers.push({
        kind: 'read',
        step: async (n) => {
          const k = (n * 7 + i * 31) % CACHED_KEYS;
          const got = (await users(i).get(`c${k}`)) as { v: number } | undefined;
          if (got?.v !== k) throw new Error(got === undefined ? 'cached key missing' : 'wrong value');
        },
      });
      workers.push({
        kind: 'write',
        step: async (n) => {
          const before = users(i).stats().tiers!.l2!.sets;
          const key = `w${i}:${n}`;
          const startedAt = Date.now();
          await users(i).set(key, { n });
          lastWritten[i] = key;
          const acknowledged = users(i).stats().tiers!.l2!.sets > before; // false: L2 unreachable, written to L1 only
          if (acknowledged && promotedAt > 0 && startedAt > promotedAt) acknowledgedAfterPromotion.add(i);
          return acknowledged;
        },
      });
    }
    const load = startLoad(workers, { maxMs: 30_000, maxIterations: 20_000, pauseMs: 2 });
    await new Promise((r) => setTimeout(r, 1_000));
    const killedAt = Date.now();
    await group.master.kill('SIGKILL');
    const newMasterPort = await group.waitForNewMaster(oldMasterPort, 20_000);
    promotedAt = Date.now();
    // Keep the load on until every instance had a write started after the promotion acknowledged by Redis (bounded), then 1 s more.
    await waitUntil(15_000, 'writes did not resume on every instance', async () => acknowledgedAfterPromotion.size === INSTANCES, 20);
    await new Promise((r) => setTimeout(r, 1_000));
    const report = await load.stop();
    const writesBackAt = report.firstOkStartedAfter('write', promotedAt);

    const summary = (k: KindReport): string => `ok ${k.ok}, degraded ${k.degraded}, failed ${k.failed}, longest gap ${k.longestGapMs} ms, slowest ${k.maxLatencyMs} ms`;
    console.log([
      `Sentinel failover: promotion ${promotedAt - killedAt} ms after SIGKILL of the master`,
      `  reads:  ${summary(report.kinds.read)}`,
      `  writes: ${summary(report.kinds.write)}; first write acknowledged by Redis ${writesBackAt === undefined ? 'never' : `${writesBackAt - killedAt} ms after the kill`}`,
      `  errors: ${JSON.stringify({ ...report.kinds.read.errors, ...report.kinds.write.errors })}`,
    ].join('\n'));

    expect(newMasterPort).toBe(group.replica.port);
    expect(report.kinds.read.failed).toBe(0);
    // Reads of cached keys never waited for the switch: the L1 copy answered after failSafe.softTimeout.
    expect(report.kinds.read.longestGapMs).toBeLessThan(1_000);
    expect(report.kinds.read.ok).toBeGreaterThan(100);
    expect(report.kinds.write.failed).toBe(0);
    // A tiered write that Redis refused would land in L1 only ("degraded"): none did, they waited for the new master.
    expect(report.kinds.write.degraded).toBe(0);
    expect(writesBackAt).toBeDefined();
    // Each instance's last write is on the new master: writes resumed on every instance.
    for (const key of lastWritten) expect(await askNode(newMasterPort, (r) => r.exists(`cache:{users}:${key}`))).toBe(1);

    // The bus is back on every instance, and an invalidation from instance 0 reaches instance 1.
    await waitUntil(10_000, 'the bus did not reconnect', async () => instances.every((_, i) => users(i).stats().bus?.connected === true), 20);
    await users(0).set('after', { v: 1 });
    expect(await users(1).get('after')).toEqual({ v: 1 });
    const received = users(1).stats().bus!.received;
    await users(0).set('after', { v: 2 });
    await waitUntil(3_000, 'the invalidation did not reach instance 1', async () => users(1).stats().bus!.received > received, 5);
    expect(await users(1).get('after')).toEqual({ v: 2 });
  }, 90_000);
});
