import { AdaptiveStrategy } from './adaptive-strategy';
import { MemoryBackend } from '../../backends/memory/memory-backend';
import { EvictionStrategy } from '../eviction-strategy.interface';
import { LfuStrategy } from '../lfu-strategy';
import { LruStrategy } from '../lru-strategy';
import { drain } from '../../../test/drain-strategy';
import { replay } from '../../../test/replay';
import { mulberry32 } from '../../../test/seeded-random';

type Strategy = Required<EvictionStrategy>;

function* repeat(keys: string[], rounds: number): Generator<string> {
  for (let r = 0; r < rounds; r++) yield* keys;
}
const range = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

/** Half the accesses go to 60 hot keys, half to keys never seen again: frequency pays, recency does not. */
function* frequencyFriendly(seed: number, n: number, tag: string): Generator<string> {
  const random = mulberry32(seed);
  for (let i = 0; i < n; i++) yield random() < 0.5 ? `hot-${Math.floor(random() * 60)}` : `${tag}-once-${i}`;
}
/** A drifting working set: 30% new keys, 70% re-reads of one of the last 80 new keys (all recency). */
function* recencyFriendly(seed: number, n: number, tag: string): Generator<string> {
  const random = mulberry32(seed);
  let newest = 0;
  for (let i = 0; i < n; i++) {
    if (newest < 80 || random() < 0.3) yield `${tag}-${newest++}`;
    else yield `${tag}-${newest - 1 - Math.floor(random() * 80)}`;
  }
}

describe('AdaptiveStrategy', () => {
  it('is named adaptive and has no victim when empty', () => {
    const adaptive = new AdaptiveStrategy();
    adaptive.resize(8);
    expect(adaptive.name).toBe('adaptive');
    expect(adaptive.victim()).toBe(-1);
  });

  it('does not change state when asked for the victim', () => {
    const adaptive: Strategy = new AdaptiveStrategy();
    adaptive.resize(8);
    for (let slot = 0; slot < 8; slot++) adaptive.insert(slot, `key-${slot}`);
    adaptive.access(3);
    const before = adaptive.state();
    const first = adaptive.victim();
    expect(adaptive.victim()).toBe(first);
    expect(adaptive.state()).toEqual(before);
    expect(first).toBeGreaterThanOrEqual(0);
  });

  it('keeps every live slot exactly once through 20,000 random operations with growth', () => {
    const random = mulberry32(0xada9);
    const adaptive: Strategy = new AdaptiveStrategy();
    let capacity = 16;
    adaptive.resize(capacity);
    const live = new Set<number>();
    const counts = { insert: 0, access: 0, remove: 0, evict: 0 };
    for (let op = 0; op < 20_000; op++) {
      if (op === 6_000 || op === 12_000) adaptive.resize((capacity *= 2));
      const free = Array.from({ length: capacity }, (_, s) => s).filter((s) => !live.has(s));
      const roll = random();
      const slots = [...live];
      if (slots.length === 0 || (free.length > 0 && roll < 0.35)) {
        const slot = free[Math.floor(random() * free.length)];
        // Few distinct keys, so that the sketch and the ghosts see repeats.
        adaptive.insert(slot, `key-${Math.floor(random() * 3 * capacity)}`);
        live.add(slot);
        counts.insert++;
      } else if (roll < 0.75) {
        adaptive.access(slots[Math.floor(random() ** 2 * slots.length)]);
        counts.access++;
      } else if (roll < 0.85) {
        const slot = slots[Math.floor(random() * slots.length)];
        adaptive.remove(slot);
        live.delete(slot);
        counts.remove++;
      } else {
        const victim = adaptive.victim();
        if (!live.has(victim)) throw new Error(`op ${op}: victim ${victim} is not a live slot`);
        adaptive.remove(victim);
        live.delete(victim);
        counts.evict++;
      }
      const state = adaptive.state();
      const held = (state.windowEntries as number) + (state.probationEntries as number) + (state.protectedEntries as number);
      if (held !== live.size) throw new Error(`op ${op}: segments hold ${held}, ${live.size} slots are live`);
    }
    for (const n of Object.values(counts)) expect(n).toBeGreaterThan(1_000);
    const order = drain(adaptive);
    expect(new Set(order)).toEqual(live);
    expect(order).toHaveLength(live.size);
  });

  it('does not let a scan flush a frequently used working set (LRU loses all of it)', () => {
    const hot = range('hot', 50);
    const scan = range('scan', 5_000);
    const hitRatioAfterScan = (strategy: EvictionStrategy): number => {
      const backend = new MemoryBackend({ maxEntries: 100, strategy });
      replay(strategy, repeat(hot, 20), 100, backend);
      replay(strategy, scan, 100, backend);
      return replay(strategy, hot, 100, backend);
    };
    expect(hitRatioAfterScan(new LruStrategy())).toBe(0);
    expect(hitRatioAfterScan(new AdaptiveStrategy())).toBeGreaterThanOrEqual(0.7);
  });

  it('hits in a loop larger than the cache, where LRU and LFU hit nothing', () => {
    const loop = range('loop', 150);
    expect(replay(new LruStrategy(), repeat(loop, 50), 100)).toBe(0);
    expect(replay(new LfuStrategy(), repeat(loop, 50), 100)).toBe(0);
    // OPT would keep 99 of the 150 keys; a fixed set of main entries gets most of that.
    expect(replay(new AdaptiveStrategy(), repeat(loop, 50), 100)).toBeGreaterThan(0.35);
  });

  it('follows a workload that shifts from frequency to recency and back', () => {
    const adaptive: Strategy = new AdaptiveStrategy();
    const backend = new MemoryBackend({ maxEntries: 100, strategy: adaptive });
    const lru = new LruStrategy();
    const lruBackend = new MemoryBackend({ maxEntries: 100, strategy: lru });
    const phases = [
      () => frequencyFriendly(1, 20_000, 'a'),
      () => recencyFriendly(2, 20_000, 'b'),
      () => frequencyFriendly(3, 20_000, 'c'),
    ];
    const results = phases.map((phase) => {
      const ratio = replay(adaptive, phase(), 100, backend);
      const lruRatio = replay(lru, phase(), 100, lruBackend);
      return { ratio, lruRatio, window: adaptive.state().windowPercent as number };
    });
    const [frequency, recency, frequencyAgain] = results;
    // Frequency phase: a small window, and the hot set kept (LRU loses a third of its hits).
    expect(frequency.window).toBeLessThan(30);
    expect(frequency.ratio).toBeGreaterThan(frequency.lruRatio + 0.1);
    // Recency phase: the window grows to nearly all of the cache, and the hit ratio matches LRU's.
    expect(recency.window).toBeGreaterThan(90);
    expect(recency.ratio).toBeGreaterThan(recency.lruRatio - 0.02);
    // And back: the window shrinks again and the hot set is kept again.
    expect(frequencyAgain.window).toBeLessThan(50);
    expect(frequencyAgain.ratio).toBeGreaterThan(frequencyAgain.lruRatio + 0.1);
  });

  it('reports its learned state', () => {
    const adaptive: Strategy = new AdaptiveStrategy();
    const backend = new MemoryBackend({ maxEntries: 100, strategy: adaptive });
    // Before any evidence every expert weighs the same: the geometric mean of 1% … 100% is 10%.
    expect(backend.strategyState()).toMatchObject({ strategy: 'adaptive', windowPercent: 10, sketchResets: 0, expertsSampledAccesses: 0 });
    replay(adaptive, recencyFriendly(5, 5_000, 'x'), 100, backend);
    const state = backend.strategyState();
    expect(state.windowPercent).toBeGreaterThan(30);
    expect(state.experts).toMatch(/^1%:\d+ 4\.6%:\d+ 22%:\d+ 100%:\d+$/);
    // A cache of 100 entries is simulated whole: every access is replayed through the experts.
    expect(state).toMatchObject({ expertsModelEntries: 100, expertsSamplePercent: 100 });
    expect(state.expertsSampledAccesses).toBeGreaterThan(4_000);
    expect(state.sketchResets).toBeGreaterThan(0);
    expect((state.windowEntries as number) + (state.probationEntries as number) + (state.protectedEntries as number)).toBe(100);
  });

  it('stays consistent with the backend through expiry, deletes and clear, and never exceeds its capacity', () => {
    const random = mulberry32(0x77e);
    let now = 0;
    const adaptive: Strategy = new AdaptiveStrategy();
    const store = new MemoryBackend({ maxEntries: 300, strategy: adaptive, now: () => now });
    const held = (): number => {
      const state = adaptive.state();
      return (state.windowEntries as number) + (state.probationEntries as number) + (state.protectedEntries as number);
    };
    for (let op = 0; op < 40_000; op++) {
      now += 1;
      const key = random() < 0.6 ? `hot-${Math.floor(random() * 200)}` : `key-${Math.floor(random() * 5_000)}`;
      const roll = random();
      if (op % 10_000 === 5_000) store.clear();
      else if (roll < 0.01) store.delete(key);
      else if (store.get(key) === undefined) store.set(key, key, random() < 0.3 ? 1 + Math.floor(random() * 500) : 0, 0);
      const { entries } = store.stats();
      if (entries! > 300) throw new Error(`op ${op}: ${entries} entries`);
      if (held() !== entries) throw new Error(`op ${op}: the strategy holds ${held()} slots, the backend ${entries}`);
    }
    expect(store.stats().expirations).toBeGreaterThan(1_000);
    expect(adaptive.state().expertsSampledAccesses).toBeGreaterThan(10_000);
  });

  it('is deterministic: the same accesses give the same hits and the same learned state', () => {
    const run = (): { ratio: number; state: Record<string, number | string> } => {
      const adaptive: Strategy = new AdaptiveStrategy();
      const backend = new MemoryBackend({ maxEntries: 100, strategy: adaptive });
      const ratio = replay(adaptive, recencyFriendly(9, 10_000, 'd'), 100, backend);
      return { ratio, state: adaptive.state() };
    };
    expect(run()).toEqual(run());
  });

  it('keeps the memory backend within its byte bound with entries of different sizes', () => {
    const random = mulberry32(0xb17e5);
    const maxBytes = 20_000;
    const store = new MemoryBackend({ maxEntries: 1_000, maxBytes, strategy: new AdaptiveStrategy() });
    let evicting = 0;
    for (let op = 0; op < 30_000; op++) {
      const key = random() < 0.5 ? `hot-${Math.floor(random() * 40)}` : `key-${Math.floor(random() * 2_000)}`;
      const size = 1 + Math.floor(random() ** 3 * 2_000);
      if (store.get(key) === undefined) {
        const before = store.stats().evictions!;
        store.set(key, key, 0, size);
        if (store.stats().evictions! > before) evicting++;
        expect(store.get(key)).toBe(key); // a new entry is never its own victim
      } else if (random() < 0.1) store.set(key, key, 0, size); // overwrite with another size
      const { bytes, entries } = store.stats();
      if (bytes! > maxBytes || entries! > 1_000) throw new Error(`op ${op}: ${bytes} bytes in ${entries} entries`);
    }
    expect(evicting).toBeGreaterThan(1_000);
  });
});
