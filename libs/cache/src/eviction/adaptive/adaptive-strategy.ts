import { EvictionStrategy } from '../eviction-strategy.interface';
import { growInt32Array as grow } from '../grow-int32-array';
import { FrequencySketch } from './frequency-sketch';
import { hashKey } from './hash-key';
import { WindowExperts } from './window-experts';

const NONE = -1;
/** Fields of a slot in `slots`. */
const STRIDE = 4;
const PREV = 0;
const NEXT = 1;
const HASH = 2;
/**
 * Segment in the low 2 bits; bit 2 set if the key is in the experts' sample; above them, accesses
 * not yet added to the sketch (0 … 15).
 */
const META = 3;
const SEGMENT_BITS = 3;
const SAMPLED = 4;
const PENDING_ONE = 8;
const PENDING_SHIFT = 3;
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
 * A candidate at least this popular (of 15) may displace a more popular-looking victim, with
 * probability 1/128. Without it, an attacker who makes keys collide with a victim's counters could
 * keep every newcomer out (Caffeine's hash-flooding guard: threshold 6, a bit under half the
 * counter range, so that one-hit keys never pass; 1/128 keeps the cost to hit ratio negligible).
 */
const WARM_CANDIDATE = 6;
const RANDOM_ADMISSION_MASK = 127;
/**
 * W-TinyLFU whose window share is learned online from expert advice: the adaptive eviction strategy.
 *
 * New entries enter a small LRU "window". When the window is full, its oldest entry competes with
 * the main space's next victim (the oldest of the SLRU probation segment), and the one that a
 * count-min sketch of recent accesses says is less popular is evicted: TinyLFU admission
 * (Einziger, Friedman & Manes, ACM ToS 2017). Scans and loops pass through the window and the
 * sketch keeps them out of main.
 *
 * The window's share decides how much the policy leans to recency (a 100% window is LRU) or to
 * frequency (1%, TinyLFU's default). It is learned by `WindowExperts`: miniature copies of this
 * policy, each with one fixed share, replay a hashed sample of the same accesses, and Hedge with fixed
 * share follows whichever has missed least lately. When the window shrinks, its oldest entries move
 * to main without a duel; when it grows, main gives up its victims until the window has its share.
 *
 * Learning needs misses: a miss is `insert` (the backend inserts a key after a miss), a hit is
 * `access`. Every operation is O(1) amortised, without timers or allocation: the sketch is halved
 * once per 10 × capacity accesses, window resizing moves each entry at most once per stay, and each
 * sampled access costs the experts O(1). Cost per slot: 16 bytes of links, hash and segment (LRU has
 * 8 of links) and 16 sketch counters (8 bytes); the experts take a fixed ~100 KB at most.
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
  private readonly experts = new WindowExperts();
  /** Window share of the cache, 0 … 1, as the experts advised at the last miss. */
  private windowShare = this.experts.windowShare();
  /** `experts.recorded` when `windowShare` was last taken. */
  private advised = 0;

  /** `victim()` must not change state, so its decision waits here until `remove(victim)` carries it out. */
  private chosenVictim = NONE;
  /** The window entry that wins its duel and enters main when `chosenVictim` goes. */
  private chosenCandidate = NONE;
  private admitted = 0;
  private rejected = 0;

  resize(capacity: number): void {
    this.slots = grow(this.slots, capacity * STRIDE);
    this.sketch.ensureCapacity(capacity);
    this.modelExperts(capacity);
  }

  insert(slot: number, key: string): void {
    this.chosenVictim = NONE;
    const hash = hashKey(key);
    const at = slot * STRIDE;
    const sampled = this.experts.sampled(hash);
    this.slots[at + HASH] = hash;
    this.slots[at + META] = PENDING_ONE | (sampled ? SAMPLED : 0); // this miss
    if (this.sketch.tick()) this.age();
    this.consultExperts(hash, sampled);
    this.pushHead(WINDOW, slot);
    this.live++;
    this.fitWindow();
  }

  access(slot: number): void {
    this.chosenVictim = NONE;
    const slots = this.slots;
    const at = slot * STRIDE;
    const meta = slots[at + META];
    if (meta >>> PENDING_SHIFT < FrequencySketch.MAX_COUNT) slots[at + META] = meta + PENDING_ONE;
    if (this.sketch.tick()) this.age();
    if ((meta & SAMPLED) !== 0) this.replayHit(slot);
    const segment = meta & SEGMENT_BITS;
    if (segment === PROBATION) {
      this.unlink(PROBATION, slot);
      this.pushHead(PROTECTED, slot);
      this.fitProtected();
    } else if (this.heads[segment] !== slot) {
      this.moveToHead(segment, slot);
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
    this.sketch.add(this.slots[at + HASH], meta >>> PENDING_SHIFT);
    this.live--;
    if (!evicted) return;
    this.fitExperts(this.live + 1);
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

  state(): Record<string, number | string> {
    const round = (x: number, digits: number): number => Number(x.toFixed(digits));
    return {
      windowPercent: round(this.windowShare * 100, 2),
      windowEntries: this.counts[WINDOW],
      probationEntries: this.counts[PROBATION],
      protectedEntries: this.counts[PROTECTED],
      experts: this.experts.describe(),
      expertsModelEntries: this.experts.modelSize,
      expertsSamplePercent: round(this.experts.samplingRate * 100, 2),
      expertsSampledAccesses: this.experts.recorded,
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

  /** Replays a hit on a sampled key through the experts (kept out of `access`, which stays small). */
  private replayHit(slot: number): void {
    this.experts.record(this.slots[slot * STRIDE + HASH]);
  }

  /** Replays this miss through the experts if its key is sampled, and takes their latest advice. */
  private consultExperts(hash: number, sampled: boolean): void {
    const experts = this.experts;
    if (sampled) experts.record(hash);
    if (experts.recorded === this.advised) return;
    this.advised = experts.recorded;
    this.windowShare = experts.windowShare();
  }

  /**
   * The experts model a cache of this one's capacity, and of the size it has when it evicts if that
   * is more than 1/8 away (a byte bound holds fewer entries than the slots allow).
   */
  private fitExperts(size: number): void {
    const model = this.experts.modelSize;
    if (Math.abs(size - model) * 8 > model) this.modelExperts(size);
  }

  /** Resizes the experts' model and marks the slots whose keys are in its sample. */
  private modelExperts(size: number): void {
    const experts = this.experts;
    experts.model(size);
    const slots = this.slots;
    for (let at = 0; at < slots.length; at += STRIDE) {
      const meta = slots[at + META];
      if ((meta & SEGMENT_BITS) !== FREE) slots[at + META] = experts.sampled(slots[at + HASH]) ? meta | SAMPLED : meta & ~SAMPLED;
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
      if ((meta & SEGMENT_BITS) !== FREE) slots[at] = (meta & (SEGMENT_BITS | SAMPLED)) | (((meta >>> PENDING_SHIFT) >>> 1) << PENDING_SHIFT);
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

  /** A hit within its segment: relinked at the head; its segment, meta and the counts stay (the hit path). */
  private moveToHead(segment: number, slot: number): void {
    const slots = this.slots;
    const at = slot * STRIDE;
    const p = slots[at + PREV]; // not NONE: the slot is not the head
    const n = slots[at + NEXT];
    slots[p * STRIDE + NEXT] = n;
    if (n !== NONE) slots[n * STRIDE + PREV] = p;
    else this.tails[segment] = p;
    const head = this.heads[segment];
    slots[at + PREV] = NONE;
    slots[at + NEXT] = head;
    slots[head * STRIDE + PREV] = slot;
    this.heads[segment] = slot;
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
