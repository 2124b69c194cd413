import { CacheError } from '../errors/cache-error';

/** Another library (or the app) registered a metric under one of the cache's names in the same registry. */
export class MetricNameTakenError extends CacheError {
  readonly code = 'CACHE_METRIC_NAME_TAKEN';

  constructor(readonly metric: string) {
    super(
      `The Prometheus registry already holds a metric "${metric}" that nest-cachekit did not create; ` +
        'pass another registry to CachePrometheusModule.forRoot({ registry }), or set observability.metrics to false.',
    );
  }
}
