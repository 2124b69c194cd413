import { operationScope } from './cache-channels';

/**
 * Records which tier answered (`'l1'`, `'l2'`) on the cache operation being published
 * (`CacheOperationContext.tier`; the OpenTelemetry part turns it into the span attribute
 * `cache.tier`): for tiered backends, which know it. A no-op outside a published operation.
 */
export function markCacheTier(tier: string): void {
  const operation = operationScope.getStore();
  if (operation !== undefined) operation.tier = tier;
}
