/**
 * Decides which entry the memory backend evicts when it is full. The backend keeps its entries in
 * numbered slots (0 … capacity-1) and tells the strategy what happens to each slot; the strategy
 * keeps its own bookkeeping per slot (typed arrays fit well) and names the next victim.
 * Every method is called on the hot path: keep them O(1), without timers or allocation per call.
 */
export interface EvictionStrategy {
  /** Shown in stats and errors. */
  readonly name: string;
  /**
   * Heap bytes the strategy keeps per slot (its typed arrays): the memory backend counts them in
   * each entry's size against `maxBytes`. Absent: counted as 16.
   */
  readonly bytesPerSlot?: number;
  /** Called before first use and whenever the backend grows; existing slots keep their numbers. */
  resize(capacity: number): void;
  /** A new entry now lives in `slot`. */
  insert(slot: number, key: string): void;
  /** The entry in `slot` was read or overwritten. */
  access(slot: number): void;
  /** The entry in `slot` is gone (deleted, expired or evicted); the slot may be reused. */
  remove(slot: number): void;
  /** The slot to evict next, or -1 when there is none. Must not change state: the backend calls `remove` next. */
  victim(): number;
  /** Learned or internal state worth showing in `stats()`. */
  state?(): Record<string, number | string>;
}

/** Creates one strategy per namespace (each memory backend owns its strategy). */
export type EvictionStrategyFactory = () => EvictionStrategy;
