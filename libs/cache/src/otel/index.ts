// nest-cachekit/otel: OpenTelemetry spans of the cache (needs @opentelemetry/api, an optional peer dependency).
export { CacheOtelModule } from './cache-otel.module';
export { CacheOtelTracing } from './cache-otel-tracing';
export type { CacheOtelOptions } from './otel-options';
