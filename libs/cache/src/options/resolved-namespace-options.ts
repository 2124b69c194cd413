import { ResolvedResilienceOptions } from '../backends/tiered/tier-options';
import { EvictionStrategyFactory } from '../eviction/eviction-strategy.interface';
import { Serializer } from '../serialization/serializer.interface';

/** A namespace's settings after validation, with every default filled in. */
export interface ResolvedNamespaceOptions {
  readonly name: string;
  readonly backend: string;
  readonly ttlMs: number;
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly maxValueBytes: number;
  /** Full prefix: global `keyPrefix` + the namespace's own. */
  readonly keyPrefix: string;
  readonly evictionName: string;
  readonly eviction: EvictionStrategyFactory;
  readonly maxKeyLength: number;
  readonly serializer: Serializer;
  /** Set when the namespace has an `l1` (tiers, bus, fail-safe, lock). */
  readonly resilience?: ResolvedResilienceOptions;
}
