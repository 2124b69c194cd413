// How fast the adaptive strategy follows a workload that changes, on the benchmark's spliced
// phase-change traces (bench/eviction/phase-change.js): hit counts per phase, not times.
import { newCache } from 'transitory';
import { MemoryBackend } from '../../libs/cache/src/backends/memory/memory-backend';
import { AdaptiveStrategy } from '../../libs/cache/src/eviction/adaptive/adaptive-strategy';
import { EvictionStrategy } from '../../libs/cache/src/eviction/eviction-strategy.interface';
import { LruStrategy } from '../../libs/cache/src/eviction/lru-strategy';
import { PhaseChangeTrace, phaseChangeTrace } from '../../bench/eviction/phase-change';

/** Cache-aside replay: 1 per access that hits. */
type Replay = (trace: PhaseChangeTrace, size: number) => Uint8Array;

const throughBackend =
  (strategy: () => EvictionStrategy): Replay =>
  (trace, size) => {
    const backend = new MemoryBackend({ maxEntries: size, strategy: strategy() });
    const hits = new Uint8Array(trace.ids.length);
    trace.ids.forEach((id, i) => {
      const key = trace.keys[id];
      if (backend.get(key) !== undefined) hits[i] = 1;
      else backend.set(key, true, 0, 0);
    });
    return hits;
  };

/** A scan-resistant reference from npm: transitory's W-TinyLFU, held at `size` entries after each insert. */
const transitory: Replay = (trace, size) => {
  const cache = newCache<string, boolean>().maxSize(size).build();
  const hits = new Uint8Array(trace.ids.length);
  trace.ids.forEach((id, i) => {
    const key = trace.keys[id];
    if (cache.getIfPresent(key) !== null) hits[i] = 1;
    else {
      cache.set(key, true);
      cache.cleanUp();
    }
  });
  return hits;
};

const count = (hits: Uint8Array, from: number, to: number): number => hits.subarray(from, to).reduce((a, b) => a + b, 0);

describe('adaptation speed on the phase-change traces', () => {
  // After each phase change, from 10 × cache accesses into the phase to its end, the adaptive
  // strategy hits within 5 points of the better of LRU and a scan-resistant W-TinyLFU.
  it.each([
    ['recency-loop-recency', 100],
    ['recency-loop-recency', 1000],
    ['frequency-recency-frequency', 100],
    ['frequency-recency-frequency', 1000],
  ])('%s at %i entries: within 5 points of the better of LRU and W-TinyLFU by 10 × cache into each phase', (name, size) => {
    const trace = phaseChangeTrace(name, size);
    const adaptive = throughBackend(() => new AdaptiveStrategy())(trace, size);
    const lru = throughBackend(() => new LruStrategy())(trace, size);
    const scanResistant = transitory(trace, size);
    const phases = trace.phases.slice(1).map((phase) => {
      const from = phase.start + 10 * size;
      const accesses = phase.end - from;
      const best = Math.max(count(lru, from, phase.end), count(scanResistant, from, phase.end));
      const hits = count(adaptive, from, phase.end);
      return { phase: phase.name, adaptivePercent: (100 * hits) / accesses, bestPercent: (100 * best) / accesses, within5Points: hits >= best - 0.05 * accesses };
    });
    expect(phases.filter((p) => !p.within5Points)).toEqual([]);
    expect(phases).toHaveLength(2);
  });

  it('keeps the loop phase near what a frozen main space can hold, unlike LRU', () => {
    // A loop over 1.5 × cache keys: LRU never hits; keeping a fixed cache-full of the loop hits 2/3.
    const size = 1000;
    const trace = phaseChangeTrace('recency-loop-recency', size);
    const loop = trace.phases[1];
    const adaptive = throughBackend(() => new AdaptiveStrategy())(trace, size);
    const lru = throughBackend(() => new LruStrategy())(trace, size);
    const from = loop.start + 10 * size;
    expect(count(lru, from, loop.end)).toBe(0);
    expect(count(adaptive, from, loop.end) / (loop.end - from)).toBeGreaterThan(0.55);
  });
});
