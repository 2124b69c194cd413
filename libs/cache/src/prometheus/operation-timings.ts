import { CACHE_OPERATIONS } from '../tracing/cache-operations';

/** Upper bounds in seconds: 10 µs (a memory hit) up to 5 s (a slow loader). */
export const DEFAULT_LATENCY_BUCKETS: readonly number[] = [
  0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];

/**
 * A fixed-bucket latency histogram per operation, in typed arrays: recording is a short scan and two
 * additions, with no allocation and no prom-client call. The exporter reads it at scrape time.
 * Bucket counts are per bucket here (not cumulative); the last slot of each row counts +Inf.
 */
export class OperationTimings {
  readonly buckets: readonly number[];
  private readonly width: number;
  readonly counts: Float64Array;
  readonly sums: Float64Array;
  readonly totals: Float64Array;

  constructor(buckets: readonly number[] = DEFAULT_LATENCY_BUCKETS) {
    this.buckets = buckets;
    this.width = buckets.length + 1;
    this.counts = new Float64Array(CACHE_OPERATIONS.length * this.width);
    this.sums = new Float64Array(CACHE_OPERATIONS.length);
    this.totals = new Float64Array(CACHE_OPERATIONS.length);
  }

  record(operation: number, seconds: number): void {
    const buckets = this.buckets;
    let i = 0;
    while (i < buckets.length && seconds > buckets[i]) i++;
    this.counts[operation * this.width + i]++;
    this.sums[operation] += seconds;
    this.totals[operation]++;
  }

  /** Cumulative counts per bucket (the Prometheus `le` convention), +Inf last. */
  cumulative(operation: number): number[] {
    const out = new Array<number>(this.width);
    let running = 0;
    for (let i = 0; i < this.width; i++) {
      running += this.counts[operation * this.width + i];
      out[i] = running;
    }
    return out;
  }
}
