/**
 * Redis stops and restarts on the same port under a bounded load of reads and writes from two
 * tiered instances: reads of cached keys never fail (they fall back to L1), writes never throw, the
 * instances recover by themselves, and afterwards no L1 copy older than the last invalidation is served.
 */
import { randomBytes } from 'node:crypto';
import { Test, TestingModule } from '@nestjs/testing';
import { RedisServer, sleep, startRedisServer } from '../../../test/support/redis-server';
import { BreakerState } from '../src/tiers/circuit-breaker';
import { CacheModule } from '../src/cache.module';
import { CacheService } from '../src/cache.service';

/** The bus secret every instance shares: a random key, as the module requires. */
const SECRET = randomBytes(32).toString('base64');
const KEYS = 50;

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

interface Instance { moduleRef: TestingModule; cache: CacheService; breaker: BreakerState }

async function startInstance(url: string): Promise<Instance> {
  const moduleRef = await Test.createTestingModule({
    imports: [CacheModule.forRoot({
      redis: { url, commandTimeoutMs: 500 },
      bus: { secret: SECRET, heartbeat: '100ms' },
      breaker: { failureThreshold: 3, openFor: '200ms' },
      namespaces: { users: { backend: 'redis', ttl: '1h', l1: { maxEntries: 1000 }, failSafe: { grace: '1h' } } },
    })],
  }).compile();
  await moduleRef.init();
  const instance: Instance = { moduleRef, cache: moduleRef.get(CacheService), breaker: 'closed' };
  instance.cache.events.on('backendState', (e) => (instance.breaker = e.state));
  await until(() => instance.cache.namespace('users').stats().bus?.connected === true, 5_000);
  return instance;
}

describe('a Redis restart under load, two tiered instances', () => {
  let server: RedisServer;
  let instances: Instance[] = [];

  afterAll(async () => {
    await Promise.all(instances.map((i) => i.moduleRef.close()));
    await server?.stop();
  });

  it('serves every read of a cached key, throws on no write, recovers by itself, and serves nothing older than the last invalidation', async () => {
    server = await startRedisServer();
    const port = server.port;
    instances = [await startInstance(server.url), await startInstance(server.url)];
    const [a, b] = instances.map((i) => i.cache.namespace('users'));
    for (let i = 0; i < KEYS; i++) await a.set(`c${i}`, i);
    await until(() => b.stats().bus!.received >= KEYS, 5_000);
    for (let i = 0; i < KEYS; i++) expect(await b.get(`c${i}`)).toBe(i);

    const counts = { reads: 0, readFailures: 0, cachedMissesDuringOutage: 0, writes: 0, writeFailures: 0 };
    let phase: 'before' | 'outage' | 'recovering' | 'after' = 'before';
    let running = true;
    const worker = async (ns: typeof a, id: number): Promise<void> => {
      // Bounded: stops when told, and in any case after 20 000 rounds.
      for (let n = 0; running && n < 20_000; n++) {
        const k = 1 + (n % (KEYS - 1)); // c0 is the invalidated key, checked separately
        try {
          const value = await ns.get(`c${k}`);
          counts.reads++;
          if (value === undefined && phase === 'outage') counts.cachedMissesDuringOutage++;
        } catch {
          counts.readFailures++;
        }
        try {
          await ns.set(`w${id}`, n);
          counts.writes++;
        } catch {
          counts.writeFailures++;
        }
        await sleep(2);
      }
    };
    const workers = [worker(a, 0), worker(a, 1), worker(b, 2), worker(b, 3)];
    await sleep(300);

    phase = 'outage';
    await server.stop();
    await until(() => instances.every((i) => i.breaker === 'open' || i.breaker === 'half-open'), 10_000);
    // An invalidation while Redis is down: L1-only on `a`, recorded for replay; `b` cannot hear it yet.
    expect(await a.invalidate('c0')).toBe(true);
    await sleep(500);

    server = await startRedisServer({ port });
    // The restarted Redis is empty: from here on a miss is the truth, not a failure.
    phase = 'recovering';
    const restartedAt = Date.now();
    await until(() => instances.every((i) => i.breaker === 'closed' && i.cache.namespace('users').stats().bus?.connected === true), 15_000);
    const recoveryMs = Date.now() - restartedAt;
    phase = 'after';
    await sleep(200);
    running = false;
    await Promise.all(workers);

    // After recovery no instance serves the L1 copy from before the invalidation.
    expect(await b.get('c0')).toBeUndefined();
    expect(await a.get('c0')).toBeUndefined();
    // And the tiers work again across instances.
    await a.set('c1', 'after');
    await until(async () => (await b.get('c1')) === 'after', 2_000);

    console.log(`Redis restart under load: ${JSON.stringify({ ...counts, recoveryMs, fallbacks: a.stats().fallbacks! + b.stats().fallbacks! })}`);
    expect(counts.readFailures).toBe(0);
    expect(counts.writeFailures).toBe(0);
    expect(counts.cachedMissesDuringOutage).toBe(0);
    expect(counts.reads).toBeGreaterThan(0);
    expect(a.stats().fallbacks).toBeGreaterThan(0);
    expect(b.stats().bus!.resyncs).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
