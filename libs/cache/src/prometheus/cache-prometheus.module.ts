import { DynamicModule, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { CachePrometheusMetrics } from './cache-prometheus-metrics';
import { CACHE_PROMETHEUS_ASYNC_OPTIONS_TYPE, CACHE_PROMETHEUS_OPTIONS_TYPE, ConfigurableCachePrometheusModule } from './cache-prometheus.module-definition';

/**
 * Prometheus metrics of the app's cache modules: import it next to `CacheModule`.
 *
 *   imports: [CacheModule.forRoot({ … }), CachePrometheusModule.forRoot()]
 *
 * `forRoot({ registry, latencyBuckets })`, or `forRootAsync({ imports, inject, useFactory })`. The
 * metrics go to prom-client's global registry by default, the one `@willsoto/nestjs-prometheus`
 * serves at `/metrics`.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [CachePrometheusMetrics],
  exports: [CachePrometheusMetrics],
})
export class CachePrometheusModule extends ConfigurableCachePrometheusModule {
  static override forRoot(options: typeof CACHE_PROMETHEUS_OPTIONS_TYPE = {}): DynamicModule {
    return super.forRoot(options);
  }

  static override forRootAsync(options: typeof CACHE_PROMETHEUS_ASYNC_OPTIONS_TYPE): DynamicModule {
    return super.forRootAsync(options);
  }
}
