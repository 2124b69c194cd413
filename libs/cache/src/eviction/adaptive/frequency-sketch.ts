/**
 * TinyLFU's approximate frequency histogram (Einziger, Friedman & Manes, "TinyLFU: A Highly
 * Efficient Cache Admission Policy", ACM ToS 2017): a count-min sketch of 4-bit counters that is
 * halved every `sampleSize` additions, so that it remembers recent popularity, not all history.
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

  /** Records one access; halves every counter after `sampleSize` recorded accesses. */
  increment(hash: number): void {
    const table = this.table;
    const block = (hash & this.blockMask) << 4;
    const m = Math.imul(hash, GOLDEN) >>> 12;
    // Written out per row: this runs on every hit.
    const w0 = block + (m & 3);
    const s0 = ((m >>> 2) & 7) << 2;
    const w1 = block + 4 + ((m >>> 5) & 3);
    const s1 = ((m >>> 7) & 7) << 2;
    const w2 = block + 8 + ((m >>> 10) & 3);
    const s2 = ((m >>> 12) & 7) << 2;
    const w3 = block + 12 + ((m >>> 15) & 3);
    const s3 = ((m >>> 17) & 7) << 2;
    const v0 = table[w0];
    const v1 = table[w1];
    const v2 = table[w2];
    const v3 = table[w3];
    let added = false;
    if (((v0 >>> s0) & 0xf) !== 0xf) {
      table[w0] = (v0 + (1 << s0)) | 0;
      added = true;
    }
    if (((v1 >>> s1) & 0xf) !== 0xf) {
      table[w1] = (v1 + (1 << s1)) | 0;
      added = true;
    }
    if (((v2 >>> s2) & 0xf) !== 0xf) {
      table[w2] = (v2 + (1 << s2)) | 0;
      added = true;
    }
    if (((v3 >>> s3) & 0xf) !== 0xf) {
      table[w3] = (v3 + (1 << s3)) | 0;
      added = true;
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

function ceilingPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** 2^32 / φ, odd: Knuth's multiplicative hashing constant, as a signed 32-bit integer. */
const GOLDEN = 0x9e3779b1 | 0;
