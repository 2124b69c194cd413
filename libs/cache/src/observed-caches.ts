import { DiscoveryService } from '@nestjs/core';
import { CacheRegistry } from './cache-registry';
import { CacheObservability } from './observability/cache-observability';

/**
 * The observability of every cache module of an app (each `CacheModule.forRoot` is one), for the
 * optional parts (`CachePrometheusModule`, `CacheOtelModule`), which are imported next to them
 * rather than into them. Call it from `onModuleInit`: every module's namespaces exist by then.
 */
export function observedCaches(discovery: DiscoveryService): CacheObservability[] {
  const found = new Set<CacheObservability>();
  for (const wrapper of discovery.getProviders()) {
    const instance: unknown = wrapper.instance;
    if (instance instanceof CacheRegistry) found.add(instance.observability);
  }
  return [...found];
}
