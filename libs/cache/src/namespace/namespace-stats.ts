/** Per-namespace figures, counted in this process since start-up. */
export interface NamespaceStats {
  namespace: string;
  backend: string;
  eviction: string;
  hits: number;
  misses: number;
  /** hits / (hits + misses), 0 before the first lookup. */
  hitRatio: number;
  sets: number;
  invalidations: number;
  /** Failed backend calls. */
  errors: number;
  /** Entries the serializer could not read, treated as misses and deleted. */
  unreadableDropped: number;
  /** getOrSet calls that joined a load already running for the same key (stampede protection at work). */
  coalesced?: number;
  /** Reported by backends that know them (the memory backend does). */
  entries?: number;
  bytes?: number;
  evictions?: number;
  expirations?: number;
}
