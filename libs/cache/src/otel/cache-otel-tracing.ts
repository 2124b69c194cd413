import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { observedCaches } from '../observed-caches';
import { CACHE_OTEL_OPTIONS } from './cache-otel.module-definition';
import { CacheSpans } from './cache-spans';
import { CacheTracer } from './cache-tracer';
import { CacheOtelOptions, ResolvedOtelOptions, resolveOtelOptions } from './otel-options';

/**
 * OpenTelemetry spans of the app's cache modules (those with `observability.tracing` on). Subscribed
 * to the cache's tracing channels only while spans can be recorded: with a `tracerProvider` given,
 * always; otherwise while an SDK has a global provider registered, looked at on start-up and every
 * `providerCheckIntervalMs`. Unsubscribed, the cache publishes nothing and pays nothing.
 */
@Injectable()
export class CacheOtelTracing implements OnModuleInit, OnApplicationShutdown {
  private readonly options: ResolvedOtelOptions;
  private readonly tracer: CacheTracer;
  private spans: CacheSpans | null = null;
  private timer: NodeJS.Timeout | undefined;

  constructor(@Inject(CACHE_OTEL_OPTIONS) options: CacheOtelOptions, private readonly discovery: DiscoveryService) {
    this.options = resolveOtelOptions(options);
    this.tracer = new CacheTracer(this.options.tracerProvider);
  }

  onModuleInit(): void {
    const namespaces = new WeakSet<object>();
    for (const cache of observedCaches(this.discovery)) {
      if (!cache.settings.tracing) continue;
      for (const namespace of cache.namespaces()) namespaces.add(namespace);
    }
    this.spans = new CacheSpans(this.tracer, (cache) => cache !== undefined && namespaces.has(cache));
    this.refresh();
    if (this.options.tracerProvider === undefined) {
      this.timer = setInterval(() => this.refresh(), this.options.providerCheckIntervalMs);
      this.timer.unref();
    }
  }

  /** Looks now whether spans can be recorded (an SDK registered or gone), and subscribes or unsubscribes. */
  refresh(): void {
    if (this.spans === null) return;
    if (this.tracer.refresh()) this.spans.subscribe();
    else this.spans.unsubscribe();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
    this.spans?.unsubscribe();
    this.spans = null;
  }
}
