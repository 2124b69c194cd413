import { Counter, Gauge, Registry } from 'prom-client';
import { NamespaceStats } from '../observability/namespace-stats';
import { CACHE_OPERATIONS } from '../tracing/cache-operations';
import { CACHE_METRICS, CounterOrGaugeDefinition, OPERATION_DURATION_METRIC } from './cache-metric-definitions';
import { CollectedHistogram, HistogramSeries } from './collected-histogram';
import { MetricNameTakenError } from './metric-name-taken.error';
import { OperationTimings } from './operation-timings';

/** What one cache module hands the exporter: its namespaces and their latency histograms, read at each scrape. */
export interface MetricsSource {
  namespaces(): Iterable<{ stats(): NamespaceStats; readonly timings: OperationTimings }>;
}

/** Marks the metrics this exporter created, and holds the sources that feed each of them. */
const SOURCES = Symbol('nest-cachekit:metric-sources');
type Fed = { [SOURCES]: Set<MetricsSource> };

/**
 * Exports the cache's figures to a prom-client registry. Nothing is counted through prom-client: the
 * namespaces count in plain fields and typed arrays, and each metric's `collect()` reads them at
 * scrape time. Metrics are got-or-created by name, so two cache modules in one process (two apps, or
 * test suites) share one set of metrics, each module adding its namespaces as a source.
 */
export class CacheMetricsExporter {
  /** Undoes this exporter's attachments (other modules' sources stay). */
  private readonly detachers: (() => void)[] = [];

  constructor(private readonly registry: Registry) {}

  attach(source: MetricsSource): void {
    for (const definition of CACHE_METRICS) this.attachTo(this.counterOrGauge(definition), source);
    this.attachTo(this.histogram(), source);
  }

  detach(): void {
    for (const undo of this.detachers) undo();
    this.detachers.length = 0;
  }

  private attachTo(sources: Set<MetricsSource>, source: MetricsSource): void {
    sources.add(source);
    this.detachers.push(() => sources.delete(source));
  }

  private existing(name: string): Set<MetricsSource> | undefined {
    const metric = this.registry.getSingleMetric(name) as unknown as Partial<Fed> | undefined;
    if (metric === undefined) return undefined;
    if (!(metric[SOURCES] instanceof Set)) throw new MetricNameTakenError(name);
    return metric[SOURCES];
  }

  private counterOrGauge(definition: CounterOrGaugeDefinition): Set<MetricsSource> {
    const found = this.existing(definition.name);
    if (found !== undefined) return found;
    const sources = new Set<MetricsSource>();
    const config = {
      name: definition.name,
      help: definition.help,
      labelNames: [...definition.labelNames],
      registers: [this.registry],
      collect(this: Counter | Gauge) {
        this.reset();
        for (const source of sources) {
          for (const ns of source.namespaces()) {
            const stats = ns.stats();
            for (const [labels, value] of definition.series(stats, { namespace: stats.namespace, backend: stats.backend })) {
              this.inc(labels, value);
            }
          }
        }
      },
    };
    const metric = definition.type === 'counter' ? new Counter(config) : new Gauge(config);
    (metric as unknown as Fed)[SOURCES] = sources;
    return sources;
  }

  private histogram(): Set<MetricsSource> {
    const found = this.existing(OPERATION_DURATION_METRIC);
    if (found !== undefined) return found;
    const sources = new Set<MetricsSource>();
    const metric = new CollectedHistogram(
      OPERATION_DURATION_METRIC,
      'Time from the call of a cache operation until its promise settles, by operation (load = a getOrSet loader call). ' +
        'Sampled: 1 in observability.latencySampleEvery calls on memory and tiered namespaces, each operation at most once per 0.1 ms on remote backends.',
      ['namespace', 'backend', 'operation'],
      () => {
        // Two modules with a namespace of the same name add up into one series, as the counters do.
        const out = new Map<string, HistogramSeries>();
        for (const source of sources) {
          for (const ns of source.namespaces()) {
            const timings = ns.timings;
            const stats = ns.stats();
            CACHE_OPERATIONS.forEach((operation, op) => {
              if (timings.totals[op] === 0) return;
              const id = `${stats.namespace}\u0000${stats.backend}\u0000${operation}`;
              const cumulative = timings.cumulative(op);
              const seen = out.get(id);
              if (seen === undefined) {
                out.set(id, {
                  labels: { namespace: stats.namespace, backend: stats.backend, operation },
                  buckets: timings.buckets, cumulative, sum: timings.sums[op], count: timings.totals[op],
                });
              } else if (sameBuckets(seen.buckets, timings.buckets)) {
                seen.cumulative = seen.cumulative.map((n, i) => n + cumulative[i]);
                seen.sum += timings.sums[op];
                seen.count += timings.totals[op];
              }
            });
          }
        }
        return [...out.values()];
      },
      this.registry,
    );
    (metric as unknown as Fed)[SOURCES] = sources;
    return sources;
  }
}

function sameBuckets(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
