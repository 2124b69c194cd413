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
  /** Encrypted entries that failed authentication, treated as misses and deleted (see the `tamper` event). */
  tamperDetected?: number;
  /** getOrSet calls that joined a load already running for the same key (stampede protection at work). */
  coalesced?: number;
  /**
   * `@Cacheable`/`@CachePut`/`@CacheEvict` operations skipped because the key or a tag built from the
   * call's arguments broke the key rules (too long, control or invisible characters): the method ran
   * without the cache.
   */
  invalidKeyBypasses?: number;
  /** Reported by backends that know them (the memory backend does). */
  entries?: number;
  bytes?: number;
  evictions?: number;
  expirations?: number;
  /** Fail-safe: stale values served instead of an error (tiered namespaces). */
  staleServed?: number;
  /** Operations answered by the L1 alone because the L2 backend was down. */
  fallbacks?: number;
  /** Entries written to this instance's L1 only because L2 was down (not seen by other instances; dropped at recovery). */
  l1OnlyWrites?: number;
  /** The eviction strategy's learned state (memory backend), e.g. the adaptive strategy's window share. */
  strategy?: Record<string, number | string>;
  /** Per tier, for namespaces with an `l1`. */
  tiers?: { l1?: TierStats; l2?: TierStats };
  /** The invalidation bus this namespace's L1 listens to. */
  bus?: BusStats;
  /** The circuit breaker of the L2 backend: its state and how often it opened, probed and closed. */
  breaker?: { state: 'open' | 'half-open' | 'closed'; opened: number; halfOpened: number; closed: number };
}

/** Lookups and writes of one tier. */
export interface TierStats {
  hits: number;
  misses: number;
  sets: number;
  errors: number;
}

/** Counters of the authenticated invalidation bus (shared by every tiered namespace of a backend). */
export interface BusStats {
  published: number;
  received: number;
  /** Messages whose HMAC did not verify (or could not be parsed): ignored. */
  forged: number;
  /** Signed messages already accepted once (or older than every one still awaited from their sender): ignored. */
  replayed: number;
  /** Signed messages sent further than `bus.replayWindow` from this instance's clock: ignored (a replay, or a skewed clock). */
  outOfWindow: number;
  /** Losses noticed (a gap in another instance's sequence, or an instance silent without a goodbye): each resynced the L1s. */
  missed: number;
  /** This instance's own messages, ignored. */
  ownIgnored: number;
  /** Times the L1s were resynced because the bus had been disconnected. */
  resyncs: number;
  connected: boolean;
}
