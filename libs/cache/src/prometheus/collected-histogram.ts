import { Registry } from 'prom-client';

export interface HistogramSeries {
  labels: Record<string, string>;
  /** Upper bounds, ascending, without +Inf. */
  buckets: readonly number[];
  /** Cumulative counts, one per bound, then +Inf. */
  cumulative: number[];
  sum: number;
  count: number;
}

/**
 * A histogram whose observations are made elsewhere (in `OperationTimings`' typed arrays) and read at
 * scrape time. prom-client's own Histogram can only be fed one `observe()` at a time (about 500 ns
 * with labels), so this registers an object with the same shape prom-client's registry formats:
 * `name`, `help`, `type`, `aggregator`, `get()`.
 */
export class CollectedHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    private readonly collect: () => HistogramSeries[],
    registry: Registry,
  ) {
    registry.registerMetric(this as never);
  }

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: object[] }> {
    const values: object[] = [];
    for (const series of this.collect()) {
      series.buckets.forEach((le, i) => {
        values.push({ metricName: `${this.name}_bucket`, labels: { ...series.labels, le }, value: series.cumulative[i] });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { ...series.labels, le: '+Inf' }, value: series.cumulative[series.buckets.length] });
      values.push({ metricName: `${this.name}_sum`, labels: series.labels, value: series.sum });
      values.push({ metricName: `${this.name}_count`, labels: series.labels, value: series.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** Registry.resetMetrics(): the figures belong to the namespaces, which keep counting. */
  reset(): void {
    // Nothing to reset here.
  }
}
