/**
 * Hill climbing over the window's share of the cache (Einziger, Eytan, Friedman & Manes, "Adaptive
 * Software Cache Management", Middleware 2018): after each sample of accesses, compare the sample's
 * hit rate with the previous one; keep moving the window share in the same direction while it
 * improves, turn round when it gets worse, take smaller steps as it settles, and take a full step
 * again when the hit rate jumps (the workload changed). A larger window favours recency (at 100% the
 * policy is LRU), a smaller one favours frequency (near 0% it is TinyLFU over an SLRU).
 */
export class WindowClimber {
  /**
   * Start at 1%: W-TinyLFU's static window (TinyLFU paper, §5), the best single value across its
   * traces; climbing then moves away from it only when the hit rate says so.
   */
  static readonly INITIAL_SHARE = 0.01;
  /** Step of 6.25% (1/16) of the cache per sample: Caffeine's hill-climber step (its default). */
  static readonly STEP = 0.0625;
  /** Each sample without a big change shrinks the step by 2% (Caffeine's decay): the climber settles. */
  static readonly STEP_DECAY = 0.98;
  /** A hit-rate change of 5 points or more is a new workload: restart with a full step (Caffeine's). */
  static readonly RESTART_THRESHOLD = 0.05;

  /** Window share of the cache, 0 … 1. */
  share = WindowClimber.INITIAL_SHARE;
  /** Signed: the next adjustment, in shares. */
  step = WindowClimber.STEP;
  /** Hit rate of the last complete sample, 0 … 1. */
  lastHitRate = 0;
  samples = 0;
  private sampleSize = 1;
  private hits = 0;
  private misses = 0;

  /** One sample per `size` accesses; the strategy uses the sketch's reset period (10 × capacity). */
  setSampleSize(size: number): void {
    this.sampleSize = Math.max(1, size);
  }

  hit(): void {
    if (++this.hits + this.misses >= this.sampleSize) this.climb();
  }

  miss(): void {
    if (this.hits + ++this.misses >= this.sampleSize) this.climb();
  }

  private climb(): void {
    const hitRate = this.hits / (this.hits + this.misses);
    this.hits = this.misses = 0;
    const change = hitRate - this.lastHitRate;
    // Better or equal: go on the same way; worse: turn round.
    const amount = change >= 0 ? this.step : -this.step;
    this.step = Math.abs(change) >= WindowClimber.RESTART_THRESHOLD
      ? Math.sign(amount || 1) * WindowClimber.STEP
      : amount * WindowClimber.STEP_DECAY;
    this.share = Math.min(1, Math.max(0, this.share + amount));
    this.lastHitRate = hitRate;
    this.samples++;
  }
}
