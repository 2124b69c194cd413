/**
 * Tiers, fail-safe, fallback and the circuit breaker, on a byte backend wrapped in the fault-injection
 * backend (no Redis needed: these are the paths that do not depend on it).
 */
import { Test, TestingModule } from '@nestjs/testing';
import { CacheModule } from '../src/cache.module';
import { CacheService } from '../src/cache.service';
import { CacheEventMap } from '../src/events/cache-events';
import { LoaderTimeoutError } from '../src/errors/loader-timeout.error';
import { FaultInjectionBackendFactory } from '../src/backends/fault-injection/fault-injection-backend';
import { MapBackendFactory } from './map-backend.fixture';
import { estimateValueSize } from '../src/serialization/estimate-value-size';
import { MemoryBackend } from '../src/backends/memory/memory-backend';

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('tiered namespace on a flaky byte backend', () => {
  let moduleRef: TestingModule;
  let cache: CacheService;
  let store: MapBackendFactory;
  let flaky: FaultInjectionBackendFactory;
  let events: { [E in keyof CacheEventMap]?: CacheEventMap[E][] };

  beforeEach(async () => {
    store = new MapBackendFactory();
    flaky = new FaultInjectionBackendFactory(store);
    moduleRef = await Test.createTestingModule({
      imports: [CacheModule.forRoot({
        backends: { flaky },
        breaker: { failureThreshold: 2, openFor: '50ms' },
        namespaces: {
          users: { backend: 'flaky', ttl: '1h', l1: { ttl: '1m', maxEntries: 100 }, failSafe: { grace: '1h', softTimeout: '30ms', hardTimeout: '150ms' } },
          early: { backend: 'flaky', ttl: '1h', l1: { ttl: '1m' }, failSafe: { grace: '1h', earlyRefresh: 0.5 } },
        },
      })],
    }).compile();
    await moduleRef.init();
    cache = moduleRef.get(CacheService);
    events = {};
    for (const name of ['staleServed', 'fallback', 'backendState'] as const) {
      cache.events.on(name, (e) => ((events[name] ??= []) as unknown[]).push(e));
    }
  });
  afterEach(() => moduleRef.close());

  const users = (): ReturnType<CacheService['namespace']> => cache.namespace('users');

  it('answers an L1 hit without calling L2, and fills L1 from L2 on a miss', async () => {
    await users().set('a', { n: 1 });
    const calls = flaky.backends[0].counters.calls;
    expect(await users().get('a')).toEqual({ n: 1 });
    expect(flaky.backends[0].counters.calls).toBe(calls);
    // L2 holds the namespace's serialized payload, inside the tier's expiry envelope.
    const [stored] = [...store.store.values()];
    expect(stored.value).toMatch(/^\u001e[0-9a-z]+\u001e\{"n":1\}$/);
    await users().clear();
    store.store.set('cache:{users}:b', { value: '{"n":2}', expiresAt: 0 });
    expect(await users().get('b')).toEqual({ n: 2 });
    expect(await users().get('b')).toEqual({ n: 2 });
    expect(users().stats().tiers).toEqual({
      l1: { hits: 2, misses: 1, sets: 2, errors: 0, hitRatio: 2 / 3 },
      l2: { hits: 1, misses: 0, sets: 1, errors: 0, hitRatio: 1 },
    });
    // An entry filled from L2 counts in L1's bytes like one written here (the live value's estimate,
    // plus its key and the L1's per-entry structure, with a TTL).
    expect(users().stats()).toMatchObject({ entries: 1, bytes: new MemoryBackend({ maxEntries: 1 }).entryBytes('b', 60_000, estimateValueSize({ n: 2 })) });
  });

  it('degrades to L1 while L2 is down, opens the breaker, and recovers by itself without resurrecting old L2 values', async () => {
    await users().set('a', 'v1');
    await users().set('keep', 'k');
    flaky.disconnect();
    // Reads of cached keys still answer; a miss is a miss, not an error; writes do not throw.
    expect(await users().get('a')).toBe('v1');
    expect(await users().get('absent')).toBeUndefined();
    await users().set('a', 'v2');
    expect(await users().get('a')).toBe('v2');
    await users().invalidate('keep');
    expect(await users().get('keep')).toBeUndefined();
    expect(events.backendState?.[0]).toEqual({ backend: 'flaky', state: 'open' });
    expect(events.fallback?.map((e) => e.operation)).toEqual(expect.arrayContaining(['get', 'set', 'delete']));
    expect(users().stats().fallbacks).toBeGreaterThanOrEqual(3);
    flaky.heal();
    await until(() => events.backendState?.some((e) => e.state === 'closed') ?? false);
    expect(events.backendState!.map((e) => e.state)).toEqual(['open', 'half-open', 'closed']);
    expect(users().stats().breaker).toEqual({ state: 'closed', opened: 1, halfOpened: 1, closed: 1 });
    // The keys touched during the outage were deleted in L2 at recovery and L1 was cleared: neither
    // the pre-outage 'v1'/'k' nor the L1-only 'v2' is served.
    expect(await users().get('a')).toBeUndefined();
    expect(await users().get('keep')).toBeUndefined();
    expect(store.store.has('cache:{users}:a')).toBe(false);
  });

  it('stays open while the recovery probe fails', async () => {
    flaky.disconnect();
    await users().get('x');
    await users().get('y');
    await until(() => (events.backendState?.filter((e) => e.state === 'half-open').length ?? 0) >= 2);
    expect(events.backendState!.some((e) => e.state === 'closed')).toBe(false);
  });

  it('serves a stale value within grace when the loader throws, flagged as stale', async () => {
    await users().set('s', 'old', { ttl: 20 });
    await new Promise((r) => setTimeout(r, 40));
    expect(await users().get('s')).toBeUndefined(); // past its TTL: not a hit
    const value = await users().getOrSet('s', () => {
      throw new Error('database down');
    });
    expect(value).toBe('old');
    expect(events.staleServed).toEqual([{ namespace: 'users', key: 's', reason: 'loader-error' }]);
    expect(users().stats().staleServed).toBe(1);
  });

  it('passes the loader error on when there is nothing stale to serve', async () => {
    await expect(users().getOrSet('none', () => Promise.reject(new Error('database down')))).rejects.toThrow('database down');
    expect(events.staleServed).toBeUndefined();
  });

  it('soft timeout: answers stale, lets the loader finish in the background and stores its value', async () => {
    await users().set('s', 'old', { ttl: 20 });
    await new Promise((r) => setTimeout(r, 40));
    let finish!: (v: string) => void;
    const value = await users().getOrSet('s', () => new Promise<string>((resolve) => (finish = resolve)));
    expect(value).toBe('old');
    expect(events.staleServed).toEqual([{ namespace: 'users', key: 's', reason: 'loader-timeout' }]);
    finish('new');
    await until(async () => (await users().get('s')) === 'new');
  });

  it('hard timeout: a hanging loader without a stale value fails with LoaderTimeoutError; its late value is still stored', async () => {
    let finish!: (v: string) => void;
    const started = users().getOrSet('h', () => new Promise<string>((resolve) => (finish = resolve)));
    await expect(started).rejects.toThrow(LoaderTimeoutError);
    await expect(started).rejects.toMatchObject({ code: 'CACHE_LOADER_TIMEOUT', timeoutMs: 150 });
    finish('late');
    await until(async () => (await users().get('h')) === 'late');
  });

  it('serves stale within grace from L1 when L2 is down (reason backend-down)', async () => {
    await users().set('s', 'old', { ttl: 20 });
    await new Promise((r) => setTimeout(r, 40));
    flaky.disconnect();
    const l1 = users().stats().tiers!.l1!;
    expect(await users().getOrSet('s', () => 'fresh')).toBe('old');
    expect(events.staleServed).toEqual([{ namespace: 'users', key: 's', reason: 'backend-down' }]);
    // Answered by L1: counted as an L1 hit, not a miss.
    expect(users().stats().tiers!.l1).toMatchObject({ hits: l1.hits + 1, misses: l1.misses });
  });

  it('soft timeout on reads never answers a copy past its TTL: a plain get waits for L2 (stale answers are getOrSet\'s)', async () => {
    await users().set('s', 'old', { ttl: 20 });
    await new Promise((r) => setTimeout(r, 40));
    flaky.latency(300); // well past softTimeout
    expect(await users().get('s')).toBeUndefined();
    expect(events.staleServed).toBeUndefined();
    flaky.latency(0);
    expect(users().stats().tiers?.l2?.errors).toBe(0); // slow is not failed: the breaker is not fed
  });

  it('early refresh: a getOrSet hit past the given share of its TTL answers the cached value and reloads it in the background, once', async () => {
    const early = cache.namespace('early');
    let loads = 0;
    const loader = async (): Promise<string> => `v${++loads}`;
    expect(await early.getOrSet('e', loader, { ttl: 300 })).toBe('v1');
    expect(await early.getOrSet('e', loader, { ttl: 300 })).toBe('v1');
    expect(loads).toBe(1); // not yet due
    await new Promise((r) => setTimeout(r, 180));
    // Due: both calls answer at once with the cached value; one background load between them.
    expect(await Promise.all([early.getOrSet('e', loader, { ttl: 300 }), early.getOrSet('e', loader, { ttl: 300 })])).toEqual(['v1', 'v1']);
    await until(async () => (await early.get('e')) === 'v2');
    expect(loads).toBe(2);
  });

  it('early refresh is off unless configured: a hit never calls the loader', async () => {
    let loads = 0;
    await users().getOrSet('e', async () => ++loads, { ttl: 300 });
    await new Promise((r) => setTimeout(r, 180));
    await users().getOrSet('e', async () => ++loads, { ttl: 300 });
    expect(loads).toBe(1);
  });
});
