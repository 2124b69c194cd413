/**
 * TinyLFU's approximate frequency histogram (Einziger, Friedman & Manes, "TinyLFU: A Highly
 * Efficient Cache Admission Policy", ACM ToS 2017): a count-min sketch of 4-bit counters that is
 * halved every `sampleSize` accesses, so that it remembers recent popularity, not all history.
 * The strategy adds a cached key's accesses in one go when the key leaves the cache (until then it
 * counts them in the slot), so that a hit does not touch the table.
 *
 * Layout: 16 counters per cache entry, in 64-byte blocks of 16 words (8 counters a word). A key
 * picks one block (low bits of its hash), then one counter in each of four 4-word rows of it (bits
 * of a second, multiplied hash): one cache line per update, as in Caffeine's block-based sketch.
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

  private table = new Int32Array(0);
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
    this.table = new Int32Array(words);
    this.blockMask = words / FrequencySketch.BLOCK_WORDS - 1;
    this.additions = 0;
  }

  /** Estimated number of recent accesses of the key with `hash` (0 … 15): the least of its 4 counters. */
  frequency(hash: number): number {
    const table = this.table;
    const block = (hash & this.blockMask) << 4;
    // One multiply spreads the hash (Knuth's multiplicative hashing, golden-ratio constant); its top
    // 20 bits give each of the 4 rows 2 bits (word in the row) and 3 bits (counter in the word).
    const m = Math.imul(hash, GOLDEN) >>> 12;
    const c0 = (table[block + (m & 3)] >>> (((m >>> 2) & 7) << 2)) & 0xf;
    const c1 = (table[block + 4 + ((m >>> 5) & 3)] >>> (((m >>> 7) & 7) << 2)) & 0xf;
    const c2 = (table[block + 8 + ((m >>> 10) & 3)] >>> (((m >>> 12) & 7) << 2)) & 0xf;
    const c3 = (table[block + 12 + ((m >>> 15) & 3)] >>> (((m >>> 17) & 7) << 2)) & 0xf;
    return Math.min(c0, c1, c2, c3);
  }

  /** Adds `n` recorded accesses of the key with `hash` (each counter saturates at 15). */
  add(hash: number, n: number): void {
    const table = this.table;
    const block = (hash & this.blockMask) << 4;
    const m = Math.imul(hash, GOLDEN) >>> 12;
    this.addAt(table, block + (m & 3), ((m >>> 2) & 7) << 2, n);
    this.addAt(table, block + 4 + ((m >>> 5) & 3), ((m >>> 7) & 7) << 2, n);
    this.addAt(table, block + 8 + ((m >>> 10) & 3), ((m >>> 12) & 7) << 2, n);
    this.addAt(table, block + 12 + ((m >>> 15) & 3), ((m >>> 17) & 7) << 2, n);
  }

  /** Counts one access toward the reset period; true when it is time to `halve()`. */
  tick(): boolean {
    return ++this.additions >= this.sampleSize;
  }

  /** Additions left before the next halving. */
  get untilReset(): number {
    return Math.max(0, this.sampleSize - this.additions);
  }

  /** Aging: every counter divided by two (O(table) once per sampleSize accesses: O(1) amortised). */
  halve(): void {
    const table = this.table;
    for (let i = 0; i < table.length; i++) table[i] = (table[i] >>> 1) & 0x77777777;
    this.additions = 0;
    this.resets++;
  }

  private addAt(table: Int32Array, word: number, shift: number, n: number): void {
    const value = table[word];
    const count = (value >>> shift) & 0xf;
    const added = Math.min(n, FrequencySketch.MAX_COUNT - count);
    if (added > 0) table[word] = (value + (added << shift)) | 0;
  }
}

function ceilingPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** 2^32 / φ, odd: Knuth's multiplicative hashing constant, as a signed 32-bit integer. */
const GOLDEN = 0x9e3779b1 | 0;
