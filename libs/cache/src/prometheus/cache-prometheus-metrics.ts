import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { register as globalRegistry } from 'prom-client';
import { OP } from '../tracing/cache-operations';
import { observedCaches } from '../observed-caches';
import { CacheOperationContext, LATENCY_CHANNEL } from '../tracing/cache-channels';
import { CacheMetricsExporter } from './cache-metrics-exporter';
import { CACHE_PROMETHEUS_OPTIONS } from './cache-prometheus.module-definition';
import { OperationTimings } from './operation-timings';
import { CachePrometheusOptions, ResolvedPrometheusOptions, resolvePrometheusOptions } from './prometheus-options';

/**
 * The `nest_cachekit_*` metrics of every cache module of the app (those with `observability.metrics`
 * on): counters and gauges read from `stats()` at scrape time, and the latency histogram fed by the
 * `nest-cachekit:latency` channel into typed arrays (`OperationTimings`), also read at scrape time.
 */
@Injectable()
export class CachePrometheusMetrics implements OnModuleInit, OnApplicationShutdown {
  private readonly options: ResolvedPrometheusOptions;
  private readonly exporter: CacheMetricsExporter;
  /** Per namespace of this app's cache modules; messages of other apps' namespaces find nothing here. */
  private readonly timings = new Map<object, OperationTimings>();
  private readonly record = (message: CacheOperationContext): void => {
    const timings = message.cache === undefined ? undefined : this.timings.get(message.cache);
    if (timings !== undefined && message.seconds !== undefined) timings.record(OP[message.operation], message.seconds);
  };
  private subscribed = false;

  constructor(@Inject(CACHE_PROMETHEUS_OPTIONS) options: CachePrometheusOptions, private readonly discovery: DiscoveryService) {
    this.options = resolvePrometheusOptions(options);
    this.exporter = new CacheMetricsExporter(this.options.registry ?? globalRegistry);
  }

  onModuleInit(): void {
    for (const cache of observedCaches(this.discovery)) {
      if (!cache.settings.metrics) continue;
      const namespaces = [...cache.namespaces()].map((namespace) => {
        const timings = new OperationTimings(this.options.latencyBuckets);
        this.timings.set(namespace, timings);
        return { stats: () => namespace.stats(), timings };
      });
      this.exporter.attach({ namespaces: () => namespaces });
    }
    if (this.timings.size > 0) {
      LATENCY_CHANNEL.subscribe(this.record as (message: unknown) => void);
      this.subscribed = true;
    }
  }

  onApplicationShutdown(): void {
    if (this.subscribed) LATENCY_CHANNEL.unsubscribe(this.record as (message: unknown) => void);
    this.subscribed = false;
    this.exporter.detach();
  }
}
