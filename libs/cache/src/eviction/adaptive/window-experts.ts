import { FrequencySketch } from './frequency-sketch';
import { MiniatureCaches } from './miniature-caches';

/**
 * The experts: window shares from TinyLFU's 1% to LRU's 100%, evenly spaced on a log scale (1%,
 * 4.6%, 21.5%, 100%, a factor 100^(1/3) apart). Frequency-friendly workloads want the small end,
 * recency-friendly ones the middle or LRU (Caffeine's measurements: "the peak can sit at either
 * wall"). Five experts (half a decade apart) gave the same hit ratios on the benchmark's traces at
 * a quarter more cost per sampled access.
 */
const GRID: readonly number[] = [0, 1, 2, 3].map((i) => 0.01 * 100 ** (i / 3));
/**
 * Miniature caches hold at most this many keys: a cache of C entries is simulated on the keys whose
 * hash falls in a fraction 256 / C of the hash space (SHARDS' spatial sampling, Waldspurger et al.,
 * FAST '15); smaller caches are simulated whole. Of the order of Caffeine's MiniSimClimber (about
 * 100 to 1,000 entries). 256, 512 and 1,024 gave the same hit ratios on the benchmark's traces and
 * 128 was worse on the LIRS cs trace; the cost per sampled access does not depend on it, but the
 * share of a large cache's hits that pay it does (2.6% at 10,000 entries).
 */
const MAX_MINIATURE = 256;
const TWO_TO_32 = 4294967296;
const ALL_MISSED = (1 << GRID.length) - 1;

/**
 * Online learning of the window share from expert advice. Each expert is a miniature W-TinyLFU
 * cache with one window share of GRID, fed the same spatially sampled stream of the real cache's
 * accesses; its misses are its losses. Every expert's loss is observed on every sampled access (full
 * information), so Hedge with fixed share tracks the best one: weights ∝ exp(−η · loss gap), and the
 * real cache's window share is the weighted geometric mean of the experts' shares.
 *
 * This gives the window the counterfactual that regret signals lack: ghosts say that a key came back
 * after its eviction, not whether a different split would have earned more hits overall; a hill
 * climber sees only the split it runs. The experts run the alternatives side by side on the same
 * keys, loops and scans included. Cost: one sketch update and K miniature accesses per sampled
 * access, O(1); memory: K miniatures of at most 256 keys (about 65 KB for K = 4), whatever the cache size.
 *
 * The learning constants follow from the miniature's size m:
 * - the lead a new leader must earn to take over is m misses (`lossCap`): following it means
 *   refilling the cache with what it would hold, about one cache's worth of misses, so switching
 *   pays once the lead exceeds that cost (the rent-or-buy break-even of online algorithms with
 *   switching costs). On a sample of m keys this is also a lead well beyond the noise of the
 *   experts' paired losses.
 * - fixed share (Herbster & Warmuth, "Tracking the Best Expert", 1998) with α = 1/T over the horizon
 *   T = 10 m sampled accesses, the sketch's reset period: no expert's weight falls below α/K of the
 *   leader's, i.e. no loss gap exceeds ln(K/α)/η, and that cap is the lead above, so
 *   η = ln(K T) / m.
 */
export class WindowExperts {
  static readonly GRID = GRID;

  private readonly experts = new MiniatureCaches(GRID);
  /** Per expert: misses beyond the best expert's, capped at `lossCap` (fixed share). */
  private readonly lossGaps = new Float64Array(GRID.length);
  private lossCap = 1;
  private learningRate = 0;
  private threshold = 0;
  /** The cache size the miniatures model (0 until `model`). */
  modelSize = 0;
  /** Sampled accesses recorded so far. */
  recorded = 0;

  /**
   * Models a cache of `size` entries: at most MAX_MINIATURE keys, sampled at MAX_MINIATURE / size.
   * The experts keep their contents and their record, so the model follows a cache that grows.
   */
  model(size: number): void {
    const miniature = Math.max(1, Math.min(size, MAX_MINIATURE));
    const horizon = FrequencySketch.SAMPLE_FACTOR * miniature;
    this.modelSize = size;
    this.lossCap = miniature;
    this.learningRate = Math.log(GRID.length * horizon) / this.lossCap;
    for (let i = 0; i < GRID.length; i++) this.lossGaps[i] = Math.min(this.lossGaps[i], this.lossCap);
    const previous = this.threshold;
    this.threshold = Math.min(TWO_TO_32, Math.ceil((miniature / size) * TWO_TO_32));
    // Keys that left the sample would never be accessed again and hold room a sampled key needs.
    if (this.threshold < previous) this.experts.retain((hash) => this.sampled(hash));
    this.experts.resize(miniature);
  }

  /** Whether the key with `hash` is in the sample (none before `model`). */
  sampled(hash: number): boolean {
    // A remix of the hash, so that the sample does not depend on the bits the sketch indexes with.
    return Math.imul(hash ^ (hash >>> 16), 0x45d9f3b) >>> 0 < this.threshold;
  }

  /** Replays one sampled access through every expert and charges each miss to its expert. */
  record(hash: number): void {
    this.recorded++;
    const missed = this.experts.access(hash);
    // All hit: no gap moves. All missed: every gap grows by one, and the gaps do not change.
    if (missed === 0 || missed === ALL_MISSED) return;
    const gaps = this.lossGaps;
    let best = Infinity;
    for (let i = 0; i < gaps.length; i++) {
      if ((missed >>> i) & 1) gaps[i]++;
      if (gaps[i] < best) best = gaps[i];
    }
    const cap = this.lossCap;
    for (let i = 0; i < gaps.length; i++) gaps[i] = Math.min(cap, gaps[i] - best);
  }

  /** The window share the experts advise now: exp(Σ wᵢ ln shareᵢ / Σ wᵢ), wᵢ = exp(−η · gapᵢ). */
  windowShare(): number {
    let weights = 0;
    let logShare = 0;
    for (let i = 0; i < GRID.length; i++) {
      const weight = Math.exp(-this.learningRate * this.lossGaps[i]);
      weights += weight;
      logShare += weight * Math.log(GRID[i]);
    }
    return Math.exp(logShare / weights);
  }

  /** Each expert's weight in percent, e.g. "1%:62 3.2%:30 10%:5 32%:2 100%:1". */
  describe(): string {
    const weights = GRID.map((_, i) => Math.exp(-this.learningRate * this.lossGaps[i]));
    const total = weights.reduce((a, b) => a + b, 0);
    return GRID.map((share, i) => `${Number((share * 100).toPrecision(2))}%:${Math.round((weights[i] / total) * 100)}`).join(' ');
  }

  /** Share of the keys sampled, 0 … 1. */
  get samplingRate(): number {
    return this.threshold / TWO_TO_32;
  }
}
