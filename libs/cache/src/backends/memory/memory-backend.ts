/*
 * Over 350 lines on purpose: the slot tables, their growth, lazy expiry, eviction and byte
 * accounting share the invariants of the hit path (`bench:memory`); split, a hit would cross files.
 */
import { ValueTooLargeError } from '../../errors/value-too-large.error';
import { EvictionStrategy } from '../../eviction/eviction-strategy.interface';
import { LruStrategy } from '../../eviction/lru-strategy';
import { stringBytes } from '../../serialization/estimate-value-size';
import { BackendEntry, BackendStats, CacheBackend, RemovalReason } from '../cache-backend.interface';
import { InvalidArgumentError } from '../../errors/invalid-argument.error';
import { ContractViolationError } from '../../errors/contract-violation.error';

export interface MemoryBackendOptions {
  /** Upper bound on entries; the backend evicts through `strategy` to stay within it. */
  maxEntries: number;
  /**
   * Upper bound on the bytes of all entries, each counted as `entryBytes` (its value's size as passed
   * to `set`, plus its key, tags and the backend's own structure); 0 or absent = none.
   */
  maxBytes?: number;
  strategy?: EvictionStrategy;
  /** Used in error messages. */
  namespace?: string;
  onRemove?: (key: string, reason: RemovalReason) => void;
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number;
}

const INITIAL_CAPACITY = 1024;
const MAX_UINT32 = 0xffffffff;

/*
 * What an entry costs beyond its value, on 64-bit V8 (Node's builds have no pointer compression),
 * checked with `bench:memory-accounting` (heap growth after GC against `stats().bytes`).
 */
/**
 * Per slot in tables that are full: the key Map's entry (3 words, plus its share of the buckets) and
 * the key, value and size slots of the arrays.
 */
const TABLE_BYTES = 48;
/** The expiry slot (`Float64Array`). */
const TTL_BYTES = 8;
/**
 * The key Map and the slot arrays (ours and the strategy's) double when they fill up, so they are
 * between half full and full: counted at the average, 2/3 full.
 */
const TABLE_FILL = 1.5;
/** A strategy that does not say what it keeps per slot. */
const DEFAULT_STRATEGY_SLOT_BYTES = 16;
/** A tagged entry: its `slotTags` pointer and the tag array it holds (array object + elements header). */
const TAGGED_ENTRY_BYTES = 56;
/** Per tag of an entry: the array element and the key's membership in the tag's Set (amortised). */
const TAG_MEMBER_BYTES = 36;
/** A tag in the index: its Map entry, the Set object and the Set's smallest table (the tag string is counted by the entries). */
const TAG_INDEX_BYTES = 160;
/** Slots checked for expiry each time room must be made, so that expired entries go before live ones. */
const EXPIRY_PROBES = 8;

/**
 * In-process store of live values, bounded by entries and by bytes, with lazy TTL expiry.
 *
 * Entries live in numbered slots: a Map from key to slot, plus parallel arrays for key, value, size
 * and expiry, and the strategy's own per-slot links. That keeps the structure near lru-cache's
 * footprint (no object per entry) and makes a hit one Map lookup, one optional clock read (only for
 * entries with a TTL) and one strategy call, with no allocation. Values are stored by reference:
 * mutating an object after `set` changes the cached copy.
 *
 * `stats().bytes` and `maxBytes` count what an entry holds in the heap: the size of its value
 * (as given to `set`), its key, its tags and the structure kept for it (`entryBytes`), plus each
 * distinct tag's index entry. All of it is computed on writes; a read does no accounting.
 */
export class MemoryBackend implements CacheBackend {
  readonly name = 'memory';
  readonly storesLiveValues = true;
  readonly synchronous = true;

  private readonly index = new Map<string, number>();
  private keys: (string | undefined)[] = [];
  private values: unknown[] = [];
  private sizes = new Uint32Array(0);
  /** Allocated at the first entry with a TTL; 0 = no expiry. */
  private expiresAt: Float64Array | null = null;
  /** Tags per slot and keys per tag; allocated at the first tagged entry, so untagged use pays nothing. */
  private slotTags: (readonly string[] | undefined)[] | null = null;
  private tagIndex: Map<string, Set<string>> | null = null;
  /** Slots freed by deletes and expiry, reused before fresh ones. */
  private readonly free: number[] = [];
  private capacity = 0;
  /** Slots below this have been handed out at least once. */
  private used = 0;
  private bytes = 0;
  /** Round-robin position of the expiry sweep. */
  private sweepCursor = 0;
  private evictions = 0;
  private expirations = 0;

  private readonly maxEntries: number;
  private readonly maxBytes: number;
  /** The tables' bytes per entry: ours and the strategy's, at their average fill. */
  private readonly slotBytes: number;
  private readonly ttlSlotBytes: number;
  private readonly strategy: EvictionStrategy;
  private readonly namespace: string;
  private readonly onRemove?: (key: string, reason: RemovalReason) => void;
  private readonly now: () => number;

  constructor(options: MemoryBackendOptions) {
    if (!Number.isInteger(options.maxEntries) || options.maxEntries < 1) {
      throw new InvalidArgumentError(`MemoryBackend: maxEntries must be an integer >= 1 (got ${options.maxEntries})`);
    }
    this.maxEntries = options.maxEntries;
    this.maxBytes = options.maxBytes ?? 0;
    this.strategy = options.strategy ?? new LruStrategy();
    this.slotBytes = Math.round(TABLE_FILL * (TABLE_BYTES + (this.strategy.bytesPerSlot ?? DEFAULT_STRATEGY_SLOT_BYTES)));
    this.ttlSlotBytes = Math.round(TABLE_FILL * TTL_BYTES);
    this.namespace = options.namespace ?? 'memory';
    this.onRemove = options.onRemove;
    this.now = options.now ?? Date.now;
    this.growTo(Math.min(this.maxEntries, INITIAL_CAPACITY));
  }

  get(key: string): unknown {
    const slot = this.index.get(key);
    if (slot === undefined) return undefined;
    if (this.expiresAt !== null) {
      const expiry = this.expiresAt[slot];
      if (expiry !== 0 && expiry <= this.now()) {
        this.removeSlot(slot, 'expired');
        return undefined;
      }
    }
    this.strategy.access(slot);
    return this.values[slot];
  }

  has(key: string): boolean {
    const slot = this.index.get(key);
    if (slot === undefined) return false;
    if (this.isExpired(slot)) {
      this.removeSlot(slot, 'expired');
      return false;
    }
    return true;
  }

  set(key: string, value: unknown, ttlMs: number, sizeBytes: number, tags?: readonly string[]): void {
    const entryBytes = this.checkedEntryBytes(key, ttlMs, sizeBytes, tags);
    const expiry = ttlMs > 0 ? this.now() + ttlMs : 0;
    let slot = this.index.get(key);
    if (slot !== undefined) {
      const growth = entryBytes - this.sizes[slot];
      if (this.maxBytes > 0 && !this.fits(growth, tags)) {
        // Make room among the other entries: take this one out of the strategy while evicting, so
        // that it is never its own victim (a rare path; an LFU count restarts from 1 here).
        this.strategy.remove(slot);
        this.sweepExpired();
        while (!this.fits(growth, tags) && this.evictOne());
        this.strategy.insert(slot, key);
      } else {
        this.strategy.access(slot);
      }
      this.bytes += growth;
      this.values[slot] = value;
      this.sizes[slot] = entryBytes;
      this.setExpiry(slot, expiry);
      this.setTags(slot, key, tags);
      return;
    }
    // Make room first, so that a new entry is never its own victim; expired entries go first.
    if (this.index.size >= this.maxEntries || (this.maxBytes > 0 && !this.fits(entryBytes, tags))) {
      this.sweepExpired();
      while (this.index.size >= this.maxEntries || (this.maxBytes > 0 && !this.fits(entryBytes, tags))) {
        if (!this.evictOne()) break;
      }
    }
    slot = this.allocateSlot();
    this.index.set(key, slot);
    this.keys[slot] = key;
    this.values[slot] = value;
    this.sizes[slot] = entryBytes;
    this.bytes += entryBytes;
    this.setExpiry(slot, expiry);
    this.setTags(slot, key, tags);
    this.strategy.insert(slot, key);
  }

  /**
   * The bytes an entry holds in this backend: `sizeBytes` (its value, as measured by the caller),
   * its key, its tags and the structure kept for it per slot. Distinct tags' index entries are
   * counted separately, when a tag first appears (`TAG_INDEX_BYTES` each).
   */
  entryBytes(key: string, ttlMs: number, sizeBytes: number, tags?: readonly string[]): number {
    let bytes = sizeBytes + stringBytes(key) + this.slotBytes;
    if (ttlMs > 0) bytes += this.ttlSlotBytes;
    if (tags !== undefined && tags.length > 0) {
      bytes += TAGGED_ENTRY_BYTES;
      for (const tag of tags) bytes += TAG_MEMBER_BYTES + stringBytes(tag);
    }
    return bytes;
  }

  delete(key: string): boolean {
    const slot = this.index.get(key);
    if (slot === undefined) return false;
    const expired = this.isExpired(slot);
    this.removeSlot(slot, expired ? 'expired' : null);
    return !expired;
  }

  mget(keys: readonly string[]): unknown[] {
    const out = new Array<unknown>(keys.length);
    for (let i = 0; i < keys.length; i++) out[i] = this.get(keys[i]);
    return out;
  }

  mset(entries: readonly BackendEntry[]): void {
    // Check every size before writing anything, so a bad entry leaves the cache untouched.
    for (const e of entries) this.checkedEntryBytes(e.key, e.ttlMs, e.sizeBytes, e.tags);
    for (const e of entries) this.set(e.key, e.value, e.ttlMs, e.sizeBytes, e.tags);
  }

  invalidateTag(tag: string): number {
    const keys = this.tagIndex?.get(tag);
    if (keys === undefined) return 0;
    let removed = 0;
    for (const key of [...keys]) {
      const slot = this.index.get(key);
      if (slot === undefined) continue;
      const expired = this.isExpired(slot);
      this.removeSlot(slot, expired ? 'expired' : null);
      if (!expired) removed++;
    }
    if (this.tagIndex!.delete(tag)) this.bytes -= TAG_INDEX_BYTES;
    return removed;
  }

  clear(): number {
    const removed = this.index.size;
    for (const slot of [...this.index.values()]) this.removeSlot(slot, null);
    return removed;
  }

  stats(): BackendStats {
    return { entries: this.index.size, bytes: this.bytes, evictions: this.evictions, expirations: this.expirations };
  }

  /** Learned or internal state of the eviction strategy. */
  strategyState(): Record<string, number | string> {
    return { strategy: this.strategy.name, ...this.strategy.state?.() };
  }

  /** `entryBytes`, after checking that it can be stored at all (RangeError, ValueTooLargeError). */
  private checkedEntryBytes(key: string, ttlMs: number, sizeBytes: number, tags: readonly string[] | undefined): number {
    if (sizeBytes >>> 0 !== sizeBytes) {
      throw new InvalidArgumentError(`MemoryBackend: sizeBytes must be an integer from 0 to 2^32-1 (got ${sizeBytes})`);
    }
    const entryBytes = this.entryBytes(key, ttlMs, sizeBytes, tags);
    if (entryBytes > MAX_UINT32) {
      throw new InvalidArgumentError(`MemoryBackend: an entry of ${entryBytes} bytes (value, key and tags) is over 2^32-1`);
    }
    if (this.maxBytes > 0) {
      const total = entryBytes + this.newTagBytes(tags);
      if (total > this.maxBytes) throw new ValueTooLargeError(this.namespace, total, this.maxBytes, 'maxBytes');
    }
    return entryBytes;
  }

  /** Whether `extra` bytes, plus the index entries of those of `tags` not yet indexed, fit in `maxBytes`. */
  private fits(extra: number, tags: readonly string[] | undefined): boolean {
    return this.bytes + extra + this.newTagBytes(tags) <= this.maxBytes;
  }

  /** Index bytes that `tags` would add (tags seen for the first time). */
  private newTagBytes(tags: readonly string[] | undefined): number {
    if (tags === undefined || tags.length === 0) return 0;
    let bytes = 0;
    for (const tag of tags) {
      if (this.tagIndex === null || !this.tagIndex.has(tag)) bytes += TAG_INDEX_BYTES;
    }
    return bytes;
  }

  private isExpired(slot: number): boolean {
    if (this.expiresAt === null) return false;
    const expiry = this.expiresAt[slot];
    return expiry !== 0 && expiry <= this.now();
  }

  private setExpiry(slot: number, expiry: number): void {
    if (this.expiresAt === null) {
      if (expiry === 0) return;
      this.expiresAt = new Float64Array(this.capacity);
    }
    this.expiresAt[slot] = expiry;
  }

  /** Replaces the tags of the entry in `slot` (undefined or [] = none). */
  private setTags(slot: number, key: string, tags: readonly string[] | undefined): void {
    const hasTags = tags !== undefined && tags.length > 0;
    if (this.slotTags === null) {
      if (!hasTags) return;
      this.slotTags = [];
      this.tagIndex = new Map();
    }
    const index = this.tagIndex!;
    const previous = this.slotTags[slot];
    if (previous !== undefined) {
      for (const tag of previous) {
        const keys = index.get(tag);
        if (keys !== undefined && keys.delete(key) && keys.size === 0) {
          index.delete(tag);
          this.bytes -= TAG_INDEX_BYTES;
        }
      }
    }
    this.slotTags[slot] = hasTags ? tags : undefined;
    if (!hasTags) return;
    for (const tag of tags) {
      let keys = index.get(tag);
      if (keys === undefined) {
        index.set(tag, (keys = new Set()));
        this.bytes += TAG_INDEX_BYTES;
      }
      keys.add(key);
    }
  }

  private evictOne(): boolean {
    const victim = this.strategy.victim();
    if (victim < 0) return false;
    if (this.keys[victim] === undefined) {
      // A custom strategy out of step with the backend; stop instead of looping on a free slot.
      throw new ContractViolationError(`Eviction strategy "${this.strategy.name}" named slot ${victim}, which holds no entry`);
    }
    this.removeSlot(victim, this.isExpired(victim) ? 'expired' : 'capacity');
    return true;
  }

  /**
   * Lazy expiry alone would let expired entries hold room that live ones need. Each time room must
   * be made, check the next few slots round-robin and drop the expired ones: O(1) per call, and every
   * slot is checked once per capacity / EXPIRY_PROBES evicting writes.
   */
  private sweepExpired(): void {
    if (this.expiresAt === null || this.used === 0) return;
    const now = this.now();
    for (let i = 0; i < EXPIRY_PROBES; i++) {
      const slot = this.sweepCursor;
      this.sweepCursor = slot + 1 >= this.used ? 0 : slot + 1;
      const expiry = this.expiresAt[slot];
      if (expiry !== 0 && expiry <= now && this.keys[slot] !== undefined) this.removeSlot(slot, 'expired');
    }
  }

  private removeSlot(slot: number, reason: RemovalReason | null): void {
    const key = this.keys[slot]!;
    this.index.delete(key);
    this.keys[slot] = undefined;
    this.values[slot] = undefined;
    this.bytes -= this.sizes[slot];
    this.sizes[slot] = 0;
    if (this.expiresAt !== null) this.expiresAt[slot] = 0;
    if (this.slotTags !== null && this.slotTags[slot] !== undefined) this.setTags(slot, key, undefined);
    this.strategy.remove(slot);
    this.free.push(slot);
    if (reason === 'capacity') this.evictions++;
    else if (reason === 'expired') this.expirations++;
    if (reason !== null && this.onRemove !== undefined) this.onRemove(key, reason);
  }

  private allocateSlot(): number {
    if (this.free.length > 0) return this.free.pop()!;
    if (this.used === this.capacity) this.growTo(Math.min(this.capacity * 2, this.maxEntries));
    return this.used++;
  }

  private growTo(capacity: number): void {
    const keys = new Array<string | undefined>(capacity);
    const values = new Array<unknown>(capacity);
    for (let i = 0; i < this.used; i++) {
      keys[i] = this.keys[i];
      values[i] = this.values[i];
    }
    this.keys = keys;
    this.values = values;
    const sizes = new Uint32Array(capacity);
    sizes.set(this.sizes);
    this.sizes = sizes;
    if (this.expiresAt !== null) {
      const expiresAt = new Float64Array(capacity);
      expiresAt.set(this.expiresAt);
      this.expiresAt = expiresAt;
    }
    this.capacity = capacity;
    this.strategy.resize(capacity);
  }
}
