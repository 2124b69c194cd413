import { CacheBackend } from '../backends/cache-backend.interface';
import { MemoryBackend } from '../backends/memory/memory-backend';
import { ValueCodec } from '../codec/value-codec';
import { CacheEvents } from '../events/cache-events';
import { LruStrategy } from '../eviction/lru-strategy';
import { TaggedJsonSerializer } from '../serialization/tagged-json-serializer';
import { CircuitBreaker } from './circuit-breaker';
import { KeyTrackingListener, KeyTrackingSource } from './key-tracking';
import { TwoTierStore } from './two-tier-store';

/** A two-tier store on an L2 whose writes land when the test says, tracked by a source the test drives. */
function storeWithTracking(): { store: TwoTierStore; announce: (keys: string[]) => void; land: () => void } {
  let listener: KeyTrackingListener | undefined;
  const source: KeyTrackingSource = {
    trusted: true,
    confirmedAt: () => true,
    register: (_prefix, l) => { listener = l; },
    stats: () => ({ invalidations: 0, flushes: 0, resyncs: 0, lost: 0, connected: true }),
  };
  const pending: (() => void)[] = [];
  const data = new Map<string, unknown>();
  const l2 = {
    name: 'slow', storesLiveValues: false,
    get: async (key: string) => data.get(key),
    set: (key: string, value: unknown) => new Promise<void>((resolve) => pending.push(() => { data.set(key, value); resolve(); })),
    delete: async (key: string) => data.delete(key),
    has: async (key: string) => data.has(key),
    mget: async (keys: readonly string[]) => keys.map((k) => data.get(k)),
    mset: async () => undefined,
    clear: async () => 0,
  } as unknown as CacheBackend;
  const events = new CacheEvents();
  const store = new TwoTierStore({
    namespace: 'users',
    l1: new MemoryBackend({ maxEntries: 100, strategy: new LruStrategy(), namespace: 'users' }),
    l2,
    codec: new ValueCodec({ name: 'users', serializer: new TaggedJsonSerializer(), maxValueBytes: 1024, maxKeyLength: 256 } as never, 'slow', events, true),
    l1TtlMs: 0,
    graceMs: 0,
    breaker: new CircuitBreaker('slow', { failureThreshold: 5, openMs: 1_000 }),
    tracking: { source, prefix: 'cache:{users}:' },
    events,
  });
  return { store, announce: (keys) => listener!.invalidate(keys), land: () => pending.splice(0).forEach((f) => f()) };
}

describe('TwoTierStore with key tracking: a write and an announcement that overtakes its reply', () => {
  it('keeps the written value in L1 when nothing was announced meanwhile', async () => {
    const { store, land } = storeWithTracking();
    const written = store.set('k', 'mine', 60_000, 10);
    await Promise.resolve();
    land();
    await written;
    expect(store.l1.entry('k')?.value).toBe('mine');
  });

  it('keeps no copy when a change of elsewhere was announced while the write was in flight', async () => {
    const { store, announce, land } = storeWithTracking();
    const written = store.set('k', 'mine', 60_000, 10);
    await Promise.resolve();
    announce(['k']); // another client wrote k after this write: Redis announced it before this write's reply was read
    land();
    await written;
    expect(store.l1.entry('k')).toBeUndefined();
  });
});
