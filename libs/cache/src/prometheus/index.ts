// nest-cachekit/prometheus: the cache's Prometheus metrics (needs prom-client, an optional peer dependency).
export { CachePrometheusModule } from './cache-prometheus.module';
export { CachePrometheusMetrics } from './cache-prometheus-metrics';
export type { CachePrometheusOptions } from './prometheus-options';
export { DEFAULT_LATENCY_BUCKETS } from './operation-timings';
export { MetricNameTakenError } from './metric-name-taken.error';
