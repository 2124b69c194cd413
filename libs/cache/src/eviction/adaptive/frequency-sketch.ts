/**
 * TinyLFU's approximate frequency histogram (Einziger, Friedman & Manes, "TinyLFU: A Highly
 * Efficient Cache Admission Policy", ACM ToS 2017): a count-min sketch of 4-bit counters that is
 * halved every `sampleSize` additions, so that it remembers recent popularity, not all history.
 *
 * Layout: 16 counters per cache entry, in 64-byte blocks of 16 words (8 counters a word). A key
 * picks one block, then one counter in each of four 4-word rows of it: one cache line per update,
 * as in Caffeine's block-based sketch.
 */
export class FrequencySketch {
  /** 4 bits, as in the paper: with halving, a counter above 15 says nothing a 15 does not. */
  static readonly MAX_COUNT = 15;
  /** Words per block: 16 × 4 bytes = one 64-byte cache line. */
  private static readonly BLOCK_WORDS = 16;
  /**
   * Reset period W = 10 × capacity: the paper's W/C ratio in its evaluation, and Caffeine's default.
   * Long enough to see a key recur several times, short enough to forget a shifted workload.
   */
  static readonly SAMPLE_FACTOR = 10;

  private table = new Uint32Array(0);
  private blockMask = 0;
  private sampleSize = 0;
  private additions = 0;
  /** Times the sketch has been halved: its age, shown in stats. */
  resets = 0;

  /** Sizes the table for `capacity` entries; a larger capacity starts a fresh (empty) table. */
  ensureCapacity(capacity: number): void {
    const words = Math.max(FrequencySketch.BLOCK_WORDS, ceilingPowerOfTwo(capacity) * 2);
    this.sampleSize = FrequencySketch.SAMPLE_FACTOR * Math.max(1, capacity);
    if (words <= this.table.length) return;
    this.table = new Uint32Array(words);
    this.blockMask = words / FrequencySketch.BLOCK_WORDS - 1;
    this.additions = 0;
  }

  /** Estimated number of recent accesses of the key with `hash` (0 … 15). */
  frequency(hash: number): number {
    const table = this.table;
    const block = (hash & this.blockMask) << 4;
    let min = FrequencySketch.MAX_COUNT;
    for (let row = 0; row < 4; row++) {
      // Odd multipliers from Knuth's multiplicative hashing (the golden ratio and relatives):
      // the top bits of the product pick the word in the row (2 bits) and the nibble (3 bits).
      const mixed = Math.imul(hash, ROW_SEEDS[row]);
      const word = block + (row << 2) + (mixed >>> 30);
      const count = (table[word] >>> (((mixed >>> 27) & 7) << 2)) & 0xf;
      if (count < min) min = count;
    }
    return min;
  }

  /** Records one access; halves every counter after `sampleSize` recorded accesses. */
  increment(hash: number): void {
    const table = this.table;
    const block = (hash & this.blockMask) << 4;
    let added = false;
    for (let row = 0; row < 4; row++) {
      const mixed = Math.imul(hash, ROW_SEEDS[row]);
      const word = block + (row << 2) + (mixed >>> 30);
      const shift = ((mixed >>> 27) & 7) << 2;
      if (((table[word] >>> shift) & 0xf) < FrequencySketch.MAX_COUNT) {
        table[word] += 1 << shift;
        added = true;
      }
    }
    if (added && ++this.additions >= this.sampleSize) this.halve();
  }

  /** Additions left before the next halving. */
  get untilReset(): number {
    return Math.max(0, this.sampleSize - this.additions);
  }

  /** Aging: every counter divided by two (O(table) once per sampleSize additions: O(1) amortised). */
  private halve(): void {
    const table = this.table;
    for (let i = 0; i < table.length; i++) table[i] = (table[i] >>> 1) & 0x77777777;
    this.additions = this.additions >>> 1;
    this.resets++;
  }
}

const ROW_SEEDS = new Int32Array([0x9e3779b1 | 0, 0x85ebca77 | 0, 0xc2b2ae3d | 0, 0x27d4eb2f | 0]);

function ceilingPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
