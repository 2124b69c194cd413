import { trace } from '@opentelemetry/api';

/**
 * Records on the active cache span which tier answered (`'l1'`, `'l2'`): for tiered backends, which
 * know it. A no-op without an OpenTelemetry SDK or outside a cache operation.
 */
export function markCacheTier(tier: string): void {
  trace.getActiveSpan()?.setAttribute('cache.tier', tier);
}
