import { Logger } from '@nestjs/common';
import { CacheBackend } from '../backends/cache-backend.interface';
import { isTwoTierStore } from '../tiers/two-tier-store';
import { CacheEvents } from '../events/cache-events';
import { CacheEventLog } from './cache-event-log';
import { NamespaceStats } from './namespace-stats';
import { ResolvedObservabilityOptions } from './observability-options';
import { OperationObserver } from './operation-observer';

/** What the optional parts (`nest-cachekit/prometheus`, `nest-cachekit/otel`) read of a namespace. */
export interface ObservedNamespace {
  readonly name: string;
  stats(): NamespaceStats;
}

/**
 * The observability of one cache module: builds each namespace's `OperationObserver` (which
 * publishes on `node:diagnostics_channel`), logs the events an operator must see, and shows its
 * namespaces to the optional Prometheus and OpenTelemetry parts, which find it through the module's
 * `CacheRegistry`. Nothing here imports prom-client or @opentelemetry/api.
 */
export class CacheObservability {
  private readonly logger = new Logger('CacheNamespace');
  private readonly eventLog: CacheEventLog;
  private readonly observers = new Map<string, OperationObserver>();
  private source: { namespaces(): Iterable<ObservedNamespace> } | null = null;

  constructor(readonly settings: ResolvedObservabilityOptions, events: CacheEvents) {
    this.eventLog = new CacheEventLog(events, this.logger);
  }

  observer(namespace: string, backend: Pick<CacheBackend, 'name' | 'synchronous' | 'storesLiveValues'>): OperationObserver {
    const synchronous = backend.synchronous === true && backend.storesLiveValues;
    const observer = new OperationObserver(namespace, backend.name, synchronous, {
      metrics: this.settings.metrics,
      tracing: this.settings.tracing,
      // Tiers answer most reads from L1 in a few dozen ns: sample them like memory (a timed call costs
      // several times a hit); the sampled calls are still timed to their settled promise, L2 reads included.
      sampled: synchronous || isTwoTierStore(backend),
      sampleEvery: this.settings.latencySampleEvery,
      logOperations: this.settings.logOperations,
      logger: this.logger,
    });
    this.observers.set(namespace, observer);
    return observer;
  }

  /** Called once every namespace exists: their observers name them in what they publish. */
  start(source: { namespaces(): Iterable<ObservedNamespace> }): void {
    this.source = source;
    for (const namespace of source.namespaces()) this.observers.get(namespace.name)?.bind(namespace);
  }

  /** The module's namespaces (empty before `start`). */
  namespaces(): Iterable<ObservedNamespace> {
    return this.source?.namespaces() ?? [];
  }

  close(): void {
    this.eventLog.close();
    for (const observer of this.observers.values()) observer.close();
  }
}
