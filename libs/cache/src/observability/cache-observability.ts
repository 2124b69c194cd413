import { Logger } from '@nestjs/common';
import { register as globalRegistry } from 'prom-client';
import { CacheBackend } from '../backends/cache-backend.interface';
import { isTwoTierStore } from '../tiers/two-tier-store';
import { CacheEvents } from '../events/cache-events';
import { logLine } from '../logging/log-line';
import { CacheMetricsExporter, MetricsSource } from '../metrics/cache-metrics-exporter';
import { OperationTimings } from '../metrics/operation-timings';
import { CacheTracer } from '../tracing/cache-tracer';
import { ResolvedObservabilityOptions } from './observability-options';
import { OperationObserver } from './operation-observer';

const EVENT_LOG_INTERVAL_MS = 10_000;

/** Events that other parts of the cache emit (tamper: encryption; fallback, staleServed, backendState: resilience). */
interface LooseEvents {
  on(event: string, listener: (payload: Record<string, unknown>) => void): () => void;
}

/**
 * The observability of one cache module: builds each namespace's `OperationObserver`, exports the
 * metrics, and logs the events that an operator must see (tamper, fallbacks, stale answers, a
 * circuit opening) at warn. Event payloads carry keys; the log lines never do.
 */
export class CacheObservability {
  private readonly tracer: CacheTracer | null;
  private readonly exporter: CacheMetricsExporter | null;
  private readonly logger = new Logger('CacheNamespace');
  private readonly unsubscribe: (() => void)[] = [];
  /** Per event and namespace: when a line was last logged, and how many were held back since. */
  private readonly throttled = new Map<string, { loggedAt: number; suppressed: number }>();

  constructor(private readonly options: ResolvedObservabilityOptions, events: CacheEvents) {
    this.tracer = options.tracing ? new CacheTracer() : null;
    this.exporter = options.metrics ? new CacheMetricsExporter(options.registry ?? globalRegistry) : null;
    const loose = events as unknown as LooseEvents;
    // Per event and namespace, one line per interval: a forged-entry flood or an outage under load
    // emits an event per call, and must not flood the log (each one is counted in the metrics).
    const warn = (event: string, fields: (p: Record<string, unknown>) => Record<string, string | undefined>) =>
      this.unsubscribe.push(loose.on(event, (payload) => {
        const line = fields(payload);
        const suppressed = this.throttle(`${event}|${line.namespace}`);
        if (suppressed !== null) this.logger.warn(logLine(`cache.${event}`, { ...line, suppressed: suppressed > 0 ? String(suppressed) : undefined }));
      }));
    warn('tamper', (p) => ({ namespace: text(p.namespace), reason: text(p.reason) }));
    warn('staleServed', (p) => ({ namespace: text(p.namespace), reason: text(p.reason) }));
    warn('fallback', (p) => ({ namespace: text(p.namespace), backend: text(p.backend), operation: text(p.operation) }));
    this.unsubscribe.push(loose.on('backendState', (p) => {
      const line = logLine('cache.backend_state', { backend: text(p.backend), state: text(p.state) });
      if (p.state === 'closed') this.logger.log(line);
      else this.logger.warn(line);
    }));
  }

  observer(namespace: string, backend: Pick<CacheBackend, 'name' | 'synchronous' | 'storesLiveValues'>): OperationObserver {
    const synchronous = backend.synchronous === true && backend.storesLiveValues;
    return new OperationObserver(namespace, backend.name, synchronous, {
      // Tiers answer most reads from L1 in a few dozen ns: sample them like memory (a timed call costs
      // several times a hit); the sampled calls are still timed to their settled promise, L2 reads included.
      sampled: synchronous || isTwoTierStore(backend),
      timings: this.options.metrics ? new OperationTimings(this.options.latencyBuckets) : null,
      tracer: this.tracer,
      sampleEvery: this.options.latencySampleEvery,
      logOperations: this.options.logOperations,
      logger: this.logger,
    });
  }

  /** Starts exporting the namespaces' figures; called once they all exist. */
  start(source: MetricsSource): void {
    this.tracer?.refresh();
    this.exporter?.attach(source);
  }

  /** `null` when this line is held back; otherwise how many were held back before it. */
  private throttle(id: string): number | null {
    const now = Date.now();
    const state = this.throttled.get(id);
    if (state === undefined) {
      this.throttled.set(id, { loggedAt: now, suppressed: 0 });
      return 0;
    }
    if (now - state.loggedAt < EVENT_LOG_INTERVAL_MS) {
      state.suppressed++;
      return null;
    }
    const suppressed = state.suppressed;
    state.loggedAt = now;
    state.suppressed = 0;
    return suppressed;
  }

  close(): void {
    this.exporter?.detach();
    for (const off of this.unsubscribe.splice(0)) off();
  }
}

/** Only short identifier-like strings reach a log line from an event payload. */
function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value.slice(0, 64) : undefined;
}
