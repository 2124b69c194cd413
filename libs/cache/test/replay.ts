import { MemoryBackend } from '../src/backends/memory/memory-backend';
import { EvictionStrategy } from '../src/eviction/eviction-strategy.interface';

/**
 * Replays keys through a MemoryBackend of `size` entries with `strategy`, the way a cache-aside
 * namespace uses it (get; on a miss, set), and returns the hit ratio.
 */
export function replay(strategy: EvictionStrategy, keys: Iterable<string>, size: number, backend?: MemoryBackend): number {
  const store = backend ?? new MemoryBackend({ maxEntries: size, strategy });
  let hits = 0;
  let accesses = 0;
  for (const key of keys) {
    accesses++;
    if (store.get(key) !== undefined) hits++;
    else store.set(key, true, 0, 0);
  }
  return accesses === 0 ? 0 : hits / accesses;
}
