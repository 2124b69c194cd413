import { InvalidArgumentError } from '../../errors/invalid-argument.error';
import { FrequencySketch } from './frequency-sketch';

const NONE = -1;
/** Segments (per record and expert), as in AdaptiveStrategy. */
const FREE = 0;
const WINDOW = 1;
const PROBATION = 2;
const PROTECTED = 3;
/** As in the real cache: the protected segment is 80% of main (TinyLFU paper, §4.1). */
const PROTECTED_SHARE = 0.8;
/** As in the real cache: Caffeine's hash-flooding guard (see AdaptiveStrategy). */
const WARM_CANDIDATE = 6;
const RANDOM_ADMISSION_MASK = 127;

/**
 * K W-TinyLFU caches of one size that differ only in their window share, holding key hashes only:
 * the experts of `WindowExperts`, each simulating what the real cache would do with its share on a
 * sample of the keys (miniature simulations, Waldspurger et al., USENIX ATC '17). Each follows the
 * real strategy's algorithm step for step (LRU window, SLRU main, TinyLFU duel, counts held per key
 * until it leaves and then added to the sketch), and all of them share one sketch.
 *
 * They share one table from key hash to record (open addressing, linear probing, deletion by
 * backward shift), so an access looks its key up once, not K times; a record lives while at least
 * one cache holds its key, and keeps per cache its links and segment side by side
 * (index record × K + cache). Every operation is O(K) = O(1) and allocates nothing.
 */
export class MiniatureCaches {
  private readonly k: number;
  readonly sketch = new FrequencySketch();
  /**
   * Per record: the key's hash, how many caches hold it, and its accesses not yet in the sketch
   * (0 … 15, added when the record is freed, as the real cache does with a slot's count).
   */
  private hashes = new Int32Array(0);
  private holders = new Uint8Array(0);
  private pending = new Uint8Array(0);
  /** Per record and cache. */
  private prev = new Int32Array(0);
  private next = new Int32Array(0);
  private segments = new Uint8Array(0);
  /** record + 1 per table cell, 0 = empty. */
  private table = new Int32Array(0);
  private tableMask = 0;
  private freeRecords = new Int32Array(0);
  private freeCount = 0;
  /** Records handed out so far (0 … used-1). */
  private used = 0;
  /** Per cache and segment (index cache × 4 + segment): most recent, least recent, size. */
  private readonly heads: Int32Array;
  private readonly tails: Int32Array;
  private readonly counts: Int32Array;
  /** Per cache: entries held, window and protected capacity. */
  private readonly live: Int32Array;
  private readonly windowCapacities: Int32Array;
  private readonly protectedCapacities: Int32Array;
  private capacity = 0;
  private duels = 0;

  constructor(
    /** Window share of each cache, 0 … 1 (1 = LRU). */
    readonly windowShares: readonly number[],
  ) {
    const k = windowShares.length;
    if (k < 1 || k > 31) throw new InvalidArgumentError('MiniatureCaches: between 1 and 31 caches (misses are reported as bits of an int)');
    this.k = k;
    this.heads = new Int32Array(k * 4).fill(NONE);
    this.tails = new Int32Array(k * 4).fill(NONE);
    this.counts = new Int32Array(k * 4);
    this.live = new Int32Array(k);
    this.windowCapacities = new Int32Array(k);
    this.protectedCapacities = new Int32Array(k);
  }

  /**
   * Sizes every cache for `capacity` entries, keeping what they hold (evicting, as they would on a
   * miss, when they shrink): the model follows the real cache as it grows, without starting cold.
   */
  resize(capacity: number): void {
    const k = this.k;
    // Each cache may hold different keys, plus the one being inserted.
    const records = Math.max(k * capacity + 1, this.used);
    if (this.hashes.length < records) {
      this.hashes = grown(this.hashes, records);
      this.holders = grown(this.holders, records);
      this.pending = grown(this.pending, records);
      this.freeRecords = grown(this.freeRecords, records);
      this.prev = grown(this.prev, records * k);
      this.next = grown(this.next, records * k);
      this.segments = grown(this.segments, records * k);
    }
    let cells = 2;
    while (cells < records * 2) cells *= 2;
    if (this.table.length < cells) {
      this.table = new Int32Array(cells);
      this.tableMask = cells - 1;
      for (let record = 0; record < this.used; record++) if (this.holders[record] > 0) this.remember(record);
    }
    this.capacity = capacity;
    for (let cache = 0; cache < k; cache++) {
      const window = Math.min(capacity, Math.max(1, Math.floor(this.windowShares[cache] * capacity)));
      this.windowCapacities[cache] = window;
      this.protectedCapacities[cache] = Math.floor(PROTECTED_SHARE * (capacity - window));
      while (this.live[cache] > capacity) this.drop(cache, this.evict(cache));
      this.fitWindow(cache);
      this.fitProtected(cache);
    }
    this.sketch.ensureCapacity(capacity);
  }

  /** Drops every key for which `keep(hash)` is false (keys that left the sample). */
  retain(keep: (hash: number) => boolean): void {
    const k = this.k;
    for (let record = 0; record < this.used; record++) {
      if (this.holders[record] === 0 || keep(this.hashes[record])) continue;
      for (let cache = 0; cache < k; cache++) {
        if (this.segments[record * k + cache] === FREE) continue;
        this.unlink(cache, record);
        this.drop(cache, record);
      }
    }
  }

  /**
   * One access in every cache: counts it in the sketch, then hits or inserts (evicting as the real
   * cache would). Returns the caches that missed, as bits (bit i = cache i).
   */
  access(hash: number): number {
    if (this.sketch.tick()) this.age();
    const k = this.k;
    let record = this.find(hash);
    let missed = 0;
    if (record !== NONE) {
      if (this.pending[record] < FrequencySketch.MAX_COUNT) this.pending[record]++;
      for (let cache = 0; cache < k; cache++) {
        const segment = this.segments[record * k + cache];
        if (segment === FREE) missed |= 1 << cache;
        else if (segment === PROBATION) {
          this.unlink(cache, record);
          this.pushHead(cache, PROTECTED, record);
          this.fitProtected(cache);
        } else if (this.heads[cache * 4 + segment] !== record) {
          this.unlink(cache, record);
          this.pushHead(cache, segment, record);
        }
      }
      if (missed === 0) return 0;
    } else {
      record = this.freeCount > 0 ? this.freeRecords[--this.freeCount] : this.used++;
      this.hashes[record] = hash;
      this.holders[record] = 0;
      this.pending[record] = 1;
      this.remember(record);
      missed = (1 << k) - 1;
    }
    for (let cache = 0; cache < k; cache++) {
      if ((missed & (1 << cache)) === 0) continue;
      if (this.live[cache] === this.capacity) this.drop(cache, this.evict(cache));
      this.pushHead(cache, WINDOW, record);
      this.holders[record]++;
      this.live[cache]++;
      // Only while filling (no eviction made room) can the window outgrow its share.
      this.fitWindow(cache);
    }
    return missed;
  }

  /** Entries `cache` holds now. */
  entries(cache: number): number {
    return this.live[cache];
  }

  /** Chooses and unlinks the victim of `cache`, as AdaptiveStrategy.victim() would. */
  private evict(cache: number): number {
    const at = cache * 4;
    const candidate = this.tails[at + WINDOW];
    const mainVictim = this.tails[at + PROBATION] !== NONE ? this.tails[at + PROBATION] : this.tails[at + PROTECTED];
    let victim: number;
    if (candidate === NONE) victim = mainVictim;
    else if (mainVictim === NONE) victim = candidate;
    else if (this.counts[at + WINDOW] < this.windowCapacities[cache]) victim = mainVictim;
    else if (this.admits(candidate, mainVictim)) {
      victim = mainVictim;
      this.unlink(cache, candidate);
      this.pushHead(cache, PROBATION, candidate);
    } else victim = candidate;
    this.unlink(cache, victim);
    return victim;
  }

  private admits(candidate: number, victim: number): boolean {
    const candidateFrequency = this.frequencyOf(candidate);
    const duel = ++this.duels;
    if (candidateFrequency > this.frequencyOf(victim)) return true;
    if (candidateFrequency < WARM_CANDIDATE) return false;
    return (Math.imul(duel, 0x9e3779b1) >>> 25 & RANDOM_ADMISSION_MASK) === 0;
  }

  /** `record`, already unlinked, leaves `cache`; the record is freed when no cache holds it. */
  private drop(cache: number, record: number): void {
    this.segments[record * this.k + cache] = FREE;
    this.live[cache]--;
    if (--this.holders[record] > 0) return;
    this.sketch.add(this.hashes[record], this.pending[record]);
    this.forget(record);
    this.freeRecords[this.freeCount++] = record;
  }

  private frequencyOf(record: number): number {
    return Math.min(FrequencySketch.MAX_COUNT, this.sketch.frequency(this.hashes[record]) + this.pending[record]);
  }

  /** The sketch's halving, applied to the counts held in the records too. */
  private age(): void {
    this.sketch.halve();
    const pending = this.pending;
    for (let record = 0; record < this.used; record++) pending[record] >>>= 1;
  }

  private fitWindow(cache: number): void {
    const at = cache * 4;
    while (this.counts[at + WINDOW] > this.windowCapacities[cache]) {
      const oldest = this.tails[at + WINDOW];
      this.unlink(cache, oldest);
      this.pushHead(cache, PROBATION, oldest);
    }
  }

  private fitProtected(cache: number): void {
    const at = cache * 4;
    while (this.counts[at + PROTECTED] > this.protectedCapacities[cache]) {
      const oldest = this.tails[at + PROTECTED];
      this.unlink(cache, oldest);
      this.pushHead(cache, PROBATION, oldest);
    }
  }

  private find(hash: number): number {
    const table = this.table;
    const mask = this.tableMask;
    for (let cell = hash & mask; ; cell = (cell + 1) & mask) {
      const entry = table[cell];
      if (entry === 0) return NONE;
      if (this.hashes[entry - 1] === hash) return entry - 1;
    }
  }

  private remember(record: number): void {
    const table = this.table;
    const mask = this.tableMask;
    let cell = this.hashes[record] & mask;
    while (table[cell] !== 0) cell = (cell + 1) & mask;
    table[cell] = record + 1;
  }

  /** Deletes the record's cell and shifts later cells of its probe run back (Knuth's algorithm R). */
  private forget(record: number): void {
    const table = this.table;
    const mask = this.tableMask;
    let hole = this.hashes[record] & mask;
    while (table[hole] !== record + 1) hole = (hole + 1) & mask;
    for (let cell = (hole + 1) & mask; table[cell] !== 0; cell = (cell + 1) & mask) {
      const home = this.hashes[table[cell] - 1] & mask;
      // Move the entry into the hole unless its home lies cyclically within (hole, cell].
      if (((cell - home) & mask) >= ((cell - hole) & mask)) {
        table[hole] = table[cell];
        hole = cell;
      }
    }
    table[hole] = 0;
  }

  private pushHead(cache: number, segment: number, record: number): void {
    const k = this.k;
    const at = cache * 4 + segment;
    const head = this.heads[at];
    const field = record * k + cache;
    this.prev[field] = NONE;
    this.next[field] = head;
    this.segments[field] = segment;
    if (head !== NONE) this.prev[head * k + cache] = record;
    else this.tails[at] = record;
    this.heads[at] = record;
    this.counts[at]++;
  }

  private unlink(cache: number, record: number): void {
    const k = this.k;
    const field = record * k + cache;
    const at = cache * 4 + this.segments[field];
    const p = this.prev[field];
    const n = this.next[field];
    if (p !== NONE) this.next[p * k + cache] = n;
    else this.heads[at] = n;
    if (n !== NONE) this.prev[n * k + cache] = p;
    else this.tails[at] = p;
    this.counts[at]--;
  }
}

function grown<T extends Int32Array | Uint8Array>(array: T, length: number): T {
  const bigger = new (array.constructor as new (n: number) => T)(length);
  bigger.set(array);
  return bigger;
}
