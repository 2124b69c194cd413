import { EvictionStrategy } from '../eviction-strategy.interface';
import { growInt32Array as grow } from '../grow-int32-array';
import { FrequencySketch } from './frequency-sketch';
import { hashKey } from './hash-key';
import { EvictionHistory, FROM_MAIN, FROM_WINDOW } from './eviction-history';

const NONE = -1;
/** Fields of a slot in `slots`. */
const STRIDE = 4;
const PREV = 0;
const NEXT = 1;
const HASH = 2;
/** Segment in the low 2 bits; above them, accesses not yet added to the sketch (0 … 15). */
const META = 3;
const SEGMENT_BITS = 3;
const PENDING_ONE = 4;
const PENDING_SHIFT = 2;
/** Segment of a slot. */
const FREE = 0;
const WINDOW = 1;
const PROBATION = 2;
const PROTECTED = 3;

/**
 * Protected segment = 80% of the main space: the SLRU split of W-TinyLFU (TinyLFU paper, §4.1;
 * Caffeine's default). Entries hit twice in main live there; probation keeps the rest.
 */
const PROTECTED_SHARE = 0.8;
/**
 * The window starts at 1% of the cache: W-TinyLFU's static window in the TinyLFU paper (§4.1),
 * its best single value across the paper's traces; regrets move it from there.
 */
const INITIAL_WINDOW_SHARE = 0.01;
/**
 * The window never takes more than 99% of the cache: main keeps at least 1% (the mirror of the
 * initial window), so that main still evicts now and then and its regrets stay observable. With a
 * window of 100% nothing would ever be evicted from main, and the policy could not find its way
 * back from LRU when the workload turns frequency-friendly again.
 */
const MAX_WINDOW_SHARE = 0.99;
/**
 * A candidate at least this popular (of 15) may displace a more popular-looking victim, with
 * probability 1/128. Without it, an attacker who makes keys collide with a victim's counters could
 * keep every newcomer out (Caffeine's hash-flooding guard: threshold 6, a bit under half the
 * counter range, so that one-hit keys never pass; 1/128 keeps the cost to hit ratio negligible).
 */
const WARM_CANDIDATE = 6;
const RANDOM_ADMISSION_MASK = 127;

/**
 * W-TinyLFU with a window sized online by ghost regrets: the adaptive eviction strategy.
 *
 * New entries enter a small LRU "window". When the window is full, its oldest entry competes with
 * the main space's next victim (the oldest of the SLRU probation segment), and the one that a
 * count-min sketch of recent accesses says is less popular is evicted: TinyLFU admission
 * (Einziger, Friedman & Manes, ACM ToS 2017). Scans and loops pass through the window and the
 * sketch keeps them out of main.
 *
 * The window's share is learned online from regrets, with ARC's rule (Megiddo & Modha, FAST '03):
 * a miss on a key recently evicted from the window says a larger window would have hit, so the
 * window grows by one entry (times the ratio of main to window evictions, ARC's |B2|/|B1|); a miss
 * on a key recently evicted from main shrinks it likewise. The policy so leans to recency (up to a
 * 100% window, which is LRU) or to frequency (down to a one-entry window) as the workload asks,
 * and follows it when it shifts. (A hill climber on the sampled hit rate, as in Caffeine and
 * Einziger et al., Middleware 2018, was measured too: see the README.)
 *
 * Learning needs misses: a miss is `insert` (the backend inserts a key after a miss), a hit is
 * `access`. Every operation is O(1) amortised, without timers or allocation: the sketch is halved
 * once per 10 × capacity accesses, and window resizing moves each entry at most once per stay.
 * Cost per slot: 16 bytes of links, hash and segment (LRU has 8 of links), 16 sketch counters
 * (8 bytes) and one ghost (8 bytes).
 */
export class AdaptiveStrategy implements EvictionStrategy {
  readonly name = 'adaptive';
  /** 16 in `slots`, 8 of sketch counters and 8 of ghosts (both sized to the capacity's power of two). */
  readonly bytesPerSlot = 32;

  /**
   * Per slot, side by side so that a hit touches one cache line: [PREV] and [NEXT] links within
   * its segment, [HASH] the key's hash (computed once in `insert`, since `access` only gets the
   * slot) and [META]: the segment and the accesses counted here until the key leaves, when they go
   * to the sketch in one `add`. The key's frequency is the sketch's estimate plus this count.
   */
  private slots = new Int32Array(0);
  /** Per segment (index = WINDOW, PROBATION, PROTECTED): most recent, least recent, size. */
  private readonly heads = new Int32Array([NONE, NONE, NONE, NONE]);
  private readonly tails = new Int32Array([NONE, NONE, NONE, NONE]);
  private readonly counts = new Int32Array(4);
  private live = 0;

  private readonly sketch = new FrequencySketch();
  private readonly ghosts = new EvictionHistory();
  /** Window share of the cache, 0 … 1. */
  private windowShare = INITIAL_WINDOW_SHARE;
  private windowRegrets = 0;
  private mainRegrets = 0;

  /** `victim()` must not change state, so its decision waits here until `remove(victim)` carries it out. */
  private chosenVictim = NONE;
  /** The window entry that wins its duel and enters main when `chosenVictim` goes. */
  private chosenCandidate = NONE;
  private admitted = 0;
  private rejected = 0;

  resize(capacity: number): void {
    this.slots = grow(this.slots, capacity * STRIDE);
    this.sketch.ensureCapacity(capacity);
    this.ghosts.ensureCapacity(capacity);
  }

  insert(slot: number, key: string): void {
    this.chosenVictim = NONE;
    const hash = hashKey(key);
    const at = slot * STRIDE;
    this.slots[at + HASH] = hash;
    this.slots[at + META] = PENDING_ONE; // this miss
    if (this.sketch.tick()) this.age();
    this.learnFromMiss(hash);
    this.pushHead(WINDOW, slot);
    this.live++;
    this.fitWindow();
  }

  access(slot: number): void {
    this.chosenVictim = NONE;
    const at = slot * STRIDE;
    const meta = this.slots[at + META];
    if (meta >>> PENDING_SHIFT < FrequencySketch.MAX_COUNT) this.slots[at + META] = meta + PENDING_ONE;
    if (this.sketch.tick()) this.age();
    const segment = meta & SEGMENT_BITS;
    if (segment === PROBATION) {
      this.unlink(PROBATION, slot);
      this.pushHead(PROTECTED, slot);
      this.fitProtected();
    } else if (this.heads[segment] !== slot) {
      this.unlink(segment, slot);
      this.pushHead(segment, slot);
    }
  }

  remove(slot: number): void {
    const at = slot * STRIDE;
    const meta = this.slots[at + META];
    const segment = meta & SEGMENT_BITS;
    const evicted = slot === this.chosenVictim;
    const candidate = this.chosenCandidate;
    this.chosenVictim = NONE;
    if (segment === FREE) return;
    this.unlink(segment, slot);
    this.slots[at + META] = FREE;
    const hash = this.slots[at + HASH];
    this.sketch.add(hash, meta >>> PENDING_SHIFT);
    this.live--;
    if (!evicted) return;
    this.ghosts.record(hash, segment === WINDOW ? FROM_WINDOW : FROM_MAIN, this.live + 1);
    if (candidate !== NONE) {
      // The window's oldest entry beat main's victim: it moves to main, the newcomer takes its place.
      this.unlink(WINDOW, candidate);
      this.pushHead(PROBATION, candidate);
      this.admitted++;
    } else if (segment === WINDOW && this.tails[PROBATION] !== NONE) {
      this.rejected++;
    }
  }

  victim(): number {
    if (this.chosenVictim !== NONE) return this.chosenVictim;
    const candidate = this.tails[WINDOW];
    const mainVictim = this.tails[PROBATION] !== NONE ? this.tails[PROBATION] : this.tails[PROTECTED];
    this.chosenCandidate = NONE;
    if (candidate === NONE) this.chosenVictim = mainVictim;
    else if (mainVictim === NONE) this.chosenVictim = candidate;
    // The window is below its share: it grows by one, main gives up its victim.
    else if (this.counts[WINDOW] < this.windowTarget()) this.chosenVictim = mainVictim;
    else if (this.admits(candidate, mainVictim)) {
      this.chosenVictim = mainVictim;
      this.chosenCandidate = candidate;
    } else this.chosenVictim = candidate;
    return this.chosenVictim;
  }

  state(): Record<string, number> {
    const round = (x: number, digits: number): number => Number(x.toFixed(digits));
    return {
      windowPercent: round(this.windowShare * 100, 2),
      windowEntries: this.counts[WINDOW],
      probationEntries: this.counts[PROBATION],
      protectedEntries: this.counts[PROTECTED],
      windowRegrets: this.windowRegrets,
      mainRegrets: this.mainRegrets,
      sketchResets: this.sketch.resets,
      sketchAccessesUntilReset: this.sketch.untilReset,
      admitted: this.admitted,
      rejected: this.rejected,
    };
  }

  /** TinyLFU's admission duel: the more popular key stays; ties keep the incumbent. */
  private admits(candidate: number, victim: number): boolean {
    const candidateFrequency = this.frequencyOf(candidate);
    if (candidateFrequency > this.frequencyOf(victim)) return true;
    if (candidateFrequency < WARM_CANDIDATE) return false;
    // Deterministic "random": a hash of the eviction count, so victim() stays a pure function of state.
    return (Math.imul(this.admitted + this.rejected + 1, 0x9e3779b1) >>> 25 & RANDOM_ADMISSION_MASK) === 0;
  }

  /**
   * ARC's adaptation: a regret of the window grows it by max(1, |B2|/|B1|) entries, a regret of
   * main shrinks it by max(1, |B1|/|B2|), where |B1|, |B2| are the recent window and main evictions.
   */
  private learnFromMiss(hash: number): void {
    const origin = this.ghosts.take(hash, this.live);
    if (origin === 0) return;
    const entry = 1 / Math.max(1, this.live);
    const { fromWindow, fromMain } = this.ghosts;
    if (origin === FROM_WINDOW) {
      this.windowRegrets++;
      this.windowShare = Math.min(MAX_WINDOW_SHARE, this.windowShare + entry * Math.max(1, fromMain / fromWindow));
    } else {
      this.mainRegrets++;
      this.windowShare = Math.max(0, this.windowShare - entry * Math.max(1, fromWindow / fromMain));
    }
  }

  /** Recent accesses of the key in `slot`: the sketch's history plus what the slot has counted since. */
  private frequencyOf(slot: number): number {
    const at = slot * STRIDE;
    const total = this.sketch.frequency(this.slots[at + HASH]) + (this.slots[at + META] >>> PENDING_SHIFT);
    return Math.min(FrequencySketch.MAX_COUNT, total);
  }

  /** The sketch's aging (halving) applied to the counts held in the slots too. */
  private age(): void {
    this.sketch.halve();
    const slots = this.slots;
    for (let at = META; at < slots.length; at += STRIDE) {
      const meta = slots[at];
      if ((meta & SEGMENT_BITS) !== FREE) slots[at] = (meta & SEGMENT_BITS) | (((meta >>> PENDING_SHIFT) >>> 1) << PENDING_SHIFT);
    }
  }

  private windowTarget(): number {
    return Math.max(1, Math.floor(this.windowShare * this.live));
  }

  /** Moves the window's oldest entries to probation while the window is over its share. */
  private fitWindow(): void {
    const target = this.windowTarget();
    while (this.counts[WINDOW] > target) {
      const oldest = this.tails[WINDOW];
      this.unlink(WINDOW, oldest);
      this.pushHead(PROBATION, oldest);
    }
  }

  /** Demotes the protected segment's oldest entries to probation while it is over its share of main. */
  private fitProtected(): void {
    const target = Math.floor(PROTECTED_SHARE * (this.live - this.counts[WINDOW]));
    while (this.counts[PROTECTED] > target) {
      const oldest = this.tails[PROTECTED];
      this.unlink(PROTECTED, oldest);
      this.pushHead(PROBATION, oldest);
    }
  }

  private pushHead(segment: number, slot: number): void {
    const slots = this.slots;
    const head = this.heads[segment];
    const at = slot * STRIDE;
    slots[at + PREV] = NONE;
    slots[at + NEXT] = head;
    slots[at + META] = (slots[at + META] & ~SEGMENT_BITS) | segment;
    if (head !== NONE) slots[head * STRIDE + PREV] = slot;
    else this.tails[segment] = slot;
    this.heads[segment] = slot;
    this.counts[segment]++;
  }

  private unlink(segment: number, slot: number): void {
    const slots = this.slots;
    const p = slots[slot * STRIDE + PREV];
    const n = slots[slot * STRIDE + NEXT];
    if (p !== NONE) slots[p * STRIDE + NEXT] = n;
    else this.heads[segment] = n;
    if (n !== NONE) slots[n * STRIDE + PREV] = p;
    else this.tails[segment] = p;
    this.counts[segment]--;
  }
}
