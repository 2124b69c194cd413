import { EvictionStrategy } from './eviction-strategy.interface';
import { growInt32Array as grow } from './grow-int32-array';

const NONE = -1;

/** All slots used exactly `freq` times, most recent at `head`. Buckets form a list by ascending freq. */
interface FrequencyBucket {
  freq: number;
  head: number;
  tail: number;
  lower: FrequencyBucket | null;
  higher: FrequencyBucket | null;
}

/**
 * Least frequently used, ties broken by least recently used, in O(1) per operation (the
 * frequency-bucket list of Shah, Mitra & Matani, "An O(1) algorithm for implementing the LFU cache
 * eviction scheme", 2010). Overwrites count as uses. Frequencies are never aged: a workload whose hot
 * set shifts is better served by LRU (or the adaptive strategy).
 */
export class LfuStrategy implements EvictionStrategy {
  readonly name = 'lfu';
  /** `prev`, `next` and the `bucketOf` pointer (buckets are shared: one per distinct frequency). */
  readonly bytesPerSlot = 16;
  private prev = new Int32Array(0);
  private next = new Int32Array(0);
  private bucketOf: (FrequencyBucket | null)[] = [];
  /** Bucket with the lowest frequency: its tail is the next victim. */
  private lowest: FrequencyBucket | null = null;
  /** Emptied buckets, reused so that a hit does not allocate. */
  private spare: FrequencyBucket[] = [];

  resize(capacity: number): void {
    this.prev = grow(this.prev, capacity);
    this.next = grow(this.next, capacity);
    while (this.bucketOf.length < capacity) this.bucketOf.push(null);
  }

  insert(slot: number, _key?: string): void {
    let bucket = this.lowest;
    if (bucket === null || bucket.freq !== 1) bucket = this.newBucket(1, null, bucket);
    this.pushHead(bucket, slot);
  }

  access(slot: number): void {
    const from = this.bucketOf[slot]!;
    const freq = from.freq + 1;
    let to = from.higher;
    if (to === null || to.freq !== freq) to = this.newBucket(freq, from, to);
    this.unlink(from, slot);
    this.pushHead(to, slot);
  }

  remove(slot: number): void {
    const bucket = this.bucketOf[slot];
    if (bucket) this.unlink(bucket, slot);
    this.bucketOf[slot] = null;
  }

  victim(): number {
    return this.lowest === null ? NONE : this.lowest.tail;
  }

  state(): Record<string, number> {
    return { lowestFrequency: this.lowest?.freq ?? 0 };
  }

  private newBucket(freq: number, lower: FrequencyBucket | null, higher: FrequencyBucket | null): FrequencyBucket {
    const bucket = this.spare.pop() ?? { freq, head: NONE, tail: NONE, lower, higher };
    bucket.freq = freq;
    bucket.head = NONE;
    bucket.tail = NONE;
    bucket.lower = lower;
    bucket.higher = higher;
    if (lower) lower.higher = bucket;
    else this.lowest = bucket;
    if (higher) higher.lower = bucket;
    return bucket;
  }

  private pushHead(bucket: FrequencyBucket, slot: number): void {
    this.prev[slot] = NONE;
    this.next[slot] = bucket.head;
    if (bucket.head !== NONE) this.prev[bucket.head] = slot;
    else bucket.tail = slot;
    bucket.head = slot;
    this.bucketOf[slot] = bucket;
  }

  private unlink(bucket: FrequencyBucket, slot: number): void {
    const p = this.prev[slot];
    const n = this.next[slot];
    if (p !== NONE) this.next[p] = n;
    else bucket.head = n;
    if (n !== NONE) this.prev[n] = p;
    else bucket.tail = p;
    if (bucket.head === NONE) this.dropBucket(bucket);
  }

  private dropBucket(bucket: FrequencyBucket): void {
    const { lower, higher } = bucket;
    if (lower) lower.higher = higher;
    else this.lowest = higher;
    if (higher) higher.lower = lower;
    bucket.lower = bucket.higher = null;
    this.spare.push(bucket);
  }
}
