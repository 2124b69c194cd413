import { StoredKey } from '../keys/namespace-keys';
import { refreshLoad, resilientLoad, ResilientLoadPlan } from '../tiers/resilient-load';
import { ResolvedResilienceOptions } from '../tiers/tier-options';
import { TwoTierStore } from '../tiers/two-tier-store';
import { L1Tier } from '../tiers/l1-tier';
import { PathContext } from './path-context';
import { ReadPath } from './read-path';

/**
 * Reads of a namespace with an `l1`: a fresh L1 copy answers synchronously (an already-resolved
 * promise, nothing sent to L2; in an open namespace before any key check, since only checked keys
 * are stored); a miss goes to the `TwoTierStore`. A `getOrSet` miss loads under the cross-instance
 * lock and the fail-safe timeouts and grace (`resilientLoad`); a hit past its early-refresh time is
 * reloaded in the background.
 */
export class TwoTierPath extends ReadPath {
  private readonly l1: L1Tier;
  private readonly open: boolean;

  constructor(protected override readonly store: TwoTierStore, context: PathContext, private readonly resilience: ResolvedResilienceOptions) {
    super(store, context);
    this.l1 = store.l1;
    this.open = context.access.open;
  }

  override get(key: string): Promise<unknown> {
    if (this.open) {
      const value = this.l1.fresh(key);
      if (value !== undefined) return this.hit(value);
    }
    // A miss is checked and canonicalised, and goes on to L2.
    return super.get(key);
  }

  override lookup(key: StoredKey): Promise<unknown> {
    const value = this.l1.fresh(key);
    if (value !== undefined) return this.hit(value);
    return super.lookup(key);
  }

  override refreshDue(key: StoredKey): boolean {
    return this.resilience.earlyRefresh > 0 && this.l1.refreshDue(key);
  }

  override load<T>(key: StoredKey, store: () => Promise<T>): Promise<T> {
    return resilientLoad(this.plan(key, store));
  }

  override refresh<T>(key: StoredKey, store: () => Promise<T>): Promise<T | undefined> {
    return refreshLoad(this.plan(key, store));
  }

  private hit(value: unknown): Promise<unknown> {
    this.counters.hits++;
    this.context.observer.markTier('l1');
    return Promise.resolve(value);
  }

  private plan<T>(key: StoredKey, store: () => Promise<T>): ResilientLoadPlan<T> {
    const tiers = this.store;
    const resilience = this.resilience;
    return {
      namespace: this.context.name,
      key,
      load: store,
      lookup: async () => (await tiers.get(key)) as T | undefined,
      stale: () => (resilience.graceMs > 0 ? (tiers.stale(key) as T | undefined) : undefined),
      reportStale: (reason) => tiers.reportStale(key, reason),
      softTimeoutMs: resilience.softTimeoutMs,
      hardTimeoutMs: resilience.hardTimeoutMs,
      lock: tiers.lock && resilience.lock ? { lock: tiers.lock, ttlMs: resilience.lock.ttlMs, pollMs: resilience.lock.pollMs } : undefined,
    };
  }
}
