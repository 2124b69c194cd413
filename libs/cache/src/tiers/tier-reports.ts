import { CacheEvents } from '../events/cache-events';
import { markCacheTier } from '../tracing/mark-cache-tier';
import { StaleReason } from './resilient-load';

/**
 * What a tiered namespace reports beyond hits and misses: answers and writes the L1 gave alone
 * because L2 was down (`fallback` events), stale answers (`staleServed`), and, on the active span,
 * the tier that answered (only when the namespace makes spans: an app's own span is never touched).
 */
export class TierReports {
  /** Operations answered by L1 alone because L2 was down. */
  fallbacks = 0;
  /** Entries written to L1 only because L2 was down (each reported by a `fallback` event with `l1Only: true`). */
  l1OnlyWrites = 0;
  staleServed = 0;

  constructor(
    private readonly namespace: string,
    private readonly backend: string,
    private readonly events: CacheEvents,
    private readonly traced: boolean,
  ) {}

  fallback(operation: string, l1Only = false): void {
    this.fallbacks++;
    if (this.events.has('fallback')) {
      const { namespace, backend } = this;
      this.events.emit('fallback', l1Only ? { namespace, operation, backend, l1Only } : { namespace, operation, backend });
    }
  }

  stale(key: string, reason: StaleReason): void {
    this.staleServed++;
    if (this.events.has('staleServed')) this.events.emit('staleServed', { namespace: this.namespace, key, reason });
  }

  tier(tier: 'l1' | 'l2'): void {
    if (this.traced) markCacheTier(tier);
  }
}
