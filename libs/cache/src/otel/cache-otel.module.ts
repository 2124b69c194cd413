import { DynamicModule, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { CacheOtelTracing } from './cache-otel-tracing';
import { CACHE_OTEL_ASYNC_OPTIONS_TYPE, CACHE_OTEL_OPTIONS_TYPE, ConfigurableCacheOtelModule } from './cache-otel.module-definition';

/**
 * OpenTelemetry spans of the app's cache modules: import it next to `CacheModule`.
 *
 *   imports: [CacheModule.forRoot({ … }), CacheOtelModule.forRoot()]
 *
 * `forRoot({ tracerProvider, providerCheckIntervalMs })`, or `forRootAsync({ … })`.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [CacheOtelTracing],
  exports: [CacheOtelTracing],
})
export class CacheOtelModule extends ConfigurableCacheOtelModule {
  static override forRoot(options: typeof CACHE_OTEL_OPTIONS_TYPE = {}): DynamicModule {
    return super.forRoot(options);
  }

  static override forRootAsync(options: typeof CACHE_OTEL_ASYNC_OPTIONS_TYPE): DynamicModule {
    return super.forRootAsync(options);
  }
}
