import { Logger } from '@nestjs/common';
import { CacheEvents } from '../events/cache-events';
import { BackendEntry, BackendStats, CacheBackend, OversizedPayload } from '../backends/cache-backend.interface';
import { MemoryBackend } from '../backends/memory/memory-backend';
import { BackendUnavailableError } from '../errors/backend-unavailable.error';
import { CacheError } from '../errors/cache-error';
import { estimateValueSize } from '../serialization/estimate-value-size';
import { markCacheTier } from '../tracing/mark-cache-tier';
import { RedisLock } from '../backends/redis/redis-lock';
import { CircuitBreaker } from './circuit-breaker';
import { BusMessage, InvalidationBus } from './invalidation-bus';

/**
 * The namespace's own value pipeline, handed to its tiers so that L2 bytes are exactly what a byte
 * backend would get (serializer, and encryption where configured); the tier never serializes.
 */
export interface TierCodec {
  /**
   * Live value → L2 body for `key`; with encryption on, sealed for the key and `envelope` (the
   * payload's logical expiry times, so they are authenticated too). Throws the namespace's typed
   * errors (too large, not serializable).
   */
  encode(key: string, value: unknown, envelope: string): string;
  /** L2 body → live value; `undefined` for an unreadable, unauthentic or oversized body (which the namespace drops). */
  decode(key: string, payload: string | OversizedPayload, envelope: string): unknown | Promise<unknown>;
  /** The namespace makes spans: mark `cache.tier` on the active (cache) span. Off: never touch an app's span. */
  traced?: boolean;
}

export interface TieredBackendOptions {
  namespace: string;
  /** L1: live values (as `L1Entry`), bounded, in this process. */
  l1: MemoryBackend;
  /** L2: a byte backend shared by the instances (Redis). */
  l2: CacheBackend;
  /** Longest time an entry lives in L1; 0 = as long as in L2. */
  l1TtlMs: number;
  /** Fail-safe: how long past its TTL an entry is kept for stale answers; 0 = none. */
  graceMs: number;
  /**
   * `failSafe.softTimeout`: a read that has an L1 copy at hand (stale, or fresh while the bus is
   * distrusted) answers with it when L2 has not answered within this time, e.g. while a Sentinel or
   * Cluster failover holds commands back; the L2 read finishes in the background. 0 = wait for L2.
   */
  l2ReadSoftTimeoutMs?: number;
  /** Share of the TTL after which a `getOrSet` hit reloads in the background; 0 = off. */
  earlyRefresh?: number;
  /**
   * A `set`/`mset` that cannot reach L2: `'l1'` keeps it in this instance's L1 only (reported by a
   * `fallback` event with `l1Only: true`, dropped at recovery); `'throw'` rejects it with
   * `BackendUnavailableError` and keeps nothing. Default `'l1'`.
   */
  outageWrites?: 'l1' | 'throw';
  breaker: CircuitBreaker;
  bus?: InvalidationBus;
  lock?: RedisLock;
  events: CacheEvents;
}

/**
 * An L1 slot: the live value, when it stops being fresh and when it is due for an early refresh (ms
 * since epoch; 0 = never), and the trust generation it was filled in (see `resync`).
 */
class L1Entry {
  constructor(readonly value: unknown, readonly freshUntil: number, readonly refreshAt: number, readonly generation: number) {}
}

/** Keys written or deleted while L2 was down, beyond which the whole namespace is cleared at recovery. */
const MAX_DIRTY_KEYS = 10_000;
const DIRTY_REPLAY_BATCH = 100;
/** L2 payloads carry their logical expiry (and early-refresh time): `\x1e<freshUntil base36>[:<refreshAt base36>]\x1e<payload>`. */
const ENVELOPE = '\u001e';

type Counters = { hits: number; misses: number; sets: number; errors: number };

/**
 * Two tiers behind one namespace: L1 memory (live values) in front of an L2 byte backend (Redis).
 *
 * - get: an L1 hit that is fresh (and while the bus is trusted) answers without any L2 command; a
 *   miss reads L2, decodes through the namespace's codec and fills L1.
 * - writes and invalidations go to L2, then L1, then are published on the bus so other instances
 *   drop their L1 copies.
 * - grace: L2 keeps an entry `graceMs` past its TTL (its logical expiry travels in a small envelope),
 *   so that `getOrSet` can answer a stale value when the loader fails or L2 is down.
 * - L2 down (a call failed, or the circuit breaker is open): reads answer from L1 a copy still known
 *   fresh (see `confirmedFresh`), or, with fail-safe grace only, any copy as a stale answer
 *   (`staleServed`); writes go to L1 only (reported, or refused with `outageWrites: 'throw'`) and
 *   their keys are recorded. At recovery (breaker half-open) the recorded keys are deleted in L2 (so
 *   an older L2 value cannot resurface), then L1 is cleared: L1 is *invalidated*, not revalidated, so
 *   nothing written before or during the outage is trusted after it.
 */
export class TieredBackend implements CacheBackend {
  readonly name: string;
  readonly storesLiveValues = true;
  readonly invalidateTag?: (tag: string) => Promise<number>;
  readonly replaceIfUnchanged?: (key: string, expected: unknown, replacement: unknown) => Promise<boolean>;
  readonly deleteIfUnchanged?: (key: string, expectedBody: unknown) => Promise<boolean>;
  readonly lock: RedisLock | undefined;
  readonly graceMs: number;
  private codec: TierCodec | undefined;
  private readonly l1: MemoryBackend;
  private readonly l2: CacheBackend;
  private readonly l1Stats: Counters = { hits: 0, misses: 0, sets: 0, errors: 0 };
  private readonly l2Stats: Counters = { hits: 0, misses: 0, sets: 0, errors: 0 };
  private fallbacks = 0;
  private staleServed = 0;
  /** Entries written to L1 only because L2 was down (each reported by a `fallback` event with `l1Only: true`). */
  private l1OnlyWrites = 0;
  /** Bumped on every invalidation, local or remote: an L2 read that raced one must not fill L1. */
  private epoch = 0;
  /** Bumped when the bus resyncs: L1 entries of an older generation are stale copies, never fresh. */
  private generation = 0;
  private readonly dirtyKeys = new Set<string>();
  private dirtyAll = false;
  private replaying = false;
  private readonly logger = new Logger('CacheTiers');

  constructor(private readonly options: TieredBackendOptions) {
    this.name = options.l2.name;
    this.l1 = options.l1;
    this.l2 = options.l2;
    this.lock = options.lock;
    this.graceMs = options.graceMs;
    if (typeof this.l2.invalidateTag === 'function') this.invalidateTag = (tag) => this.removeTag(tag);
    if (typeof this.l2.replaceIfUnchanged === 'function') this.replaceIfUnchanged = (key, expected, replacement) => this.replaceBody(key, expected, replacement);
    if (typeof this.l2.deleteIfUnchanged === 'function') this.deleteIfUnchanged = (key, expectedBody) => this.deleteBody(key, expectedBody);
    options.breaker.onRecover(() => this.recover());
    options.bus?.register(options.namespace, {
      apply: (message) => this.applyRemote(message),
      resync: () => this.resync(),
    });
  }

  /** Called once by the namespace that owns this backend. @internal */
  attachCodec(codec: TierCodec): void {
    this.codec = codec;
  }

  /** Synchronous L1 lookup of a fresh value (the namespace's hit path); `undefined` sends the read to `get`. */
  local(key: string): unknown {
    const entry = this.l1.get(key) as L1Entry | undefined;
    if (entry === undefined || (this.options.bus !== undefined && !this.options.bus.trusted)
      || entry.generation !== this.generation || (entry.freshUntil !== 0 && entry.freshUntil <= Date.now())) {
      return undefined; // Counted as an L1 miss by the read that follows.
    }
    this.l1Stats.hits++;
    return entry.value;
  }

  /** The L1 value even if past its TTL (within grace): what fail-safe answers with. */
  stale(key: string): unknown {
    return (this.l1.get(key) as L1Entry | undefined)?.value;
  }

  /** Whether a fresh L1 copy is past its early-refresh time (checked on `getOrSet` hits only). */
  refreshDue(key: string): boolean {
    const entry = this.l1.get(key) as L1Entry | undefined;
    return entry !== undefined && entry.refreshAt !== 0 && entry.refreshAt <= Date.now();
  }

  /** Counts and reports a stale answer given by the namespace. @internal */
  reportStale(key: string, reason: 'loader-error' | 'loader-timeout' | 'backend-down'): void {
    this.staleServed++;
    if (this.options.events.has('staleServed')) this.options.events.emit('staleServed', { namespace: this.options.namespace, key, reason });
  }

  async get(key: string): Promise<unknown> {
    const hit = this.local(key);
    if (hit !== undefined) return hit;
    this.l1Stats.misses++;
    if (!this.options.breaker.allows) return this.fallbackGet(key);
    const epoch = this.epoch;
    const soft = this.options.l2ReadSoftTimeoutMs ?? 0;
    if (soft > 0 && this.timeFresh(key) !== undefined) return this.getWithSoftTimeout(key, epoch, soft);
    let payload: unknown;
    try {
      payload = await this.l2.get(key);
      this.l2Succeeded();
    } catch {
      this.l2Failed();
      return this.fallbackGet(key);
    }
    return this.fromL2(key, payload, epoch);
  }

  private fromL2(key: string, payload: unknown, epoch: number): unknown {
    if (payload === undefined) {
      this.l2Missed(key, epoch);
      return undefined;
    }
    return this.accept(key, payload as string | OversizedPayload, epoch);
  }

  /**
   * L2 answered that it has no entry: that is authoritative. An L1 copy of the key (kept as a stale
   * copy after a resync, or within grace) may be one whose invalidation this instance missed, so it
   * goes, and fail-safe can never answer it later.
   */
  private l2Missed(key: string, epoch: number): void {
    this.l2Stats.misses++;
    if (epoch === this.epoch) this.l1.delete(key);
  }

  /** The L2 read, or the L1 copy if L2 takes longer than `softMs` (the read goes on and fills L1 when it lands). */
  private getWithSoftTimeout(key: string, epoch: number, softMs: number): Promise<unknown> {
    return new Promise((resolve) => {
      let answered = false;
      const timer = setTimeout(() => {
        // Only a copy still within its TTL (held back only by a resync or a distrusted bus) answers
        // for a slow L2; one past its TTL waits for L2 (fail-safe's stale answers are getOrSet's call).
        const copy = this.timeFresh(key);
        if (copy === undefined) return;
        answered = true;
        this.noteFallback('get');
        this.answeredByL1();
        if (!this.confirmedFresh(copy, Date.now())) this.reportStale(key, 'backend-down');
        resolve(copy.value);
      }, softMs);
      Promise.resolve().then(() => this.l2.get(key)).then(
        (payload: unknown) => {
          this.l2Succeeded();
          clearTimeout(timer);
          const value = this.fromL2(key, payload, epoch);
          if (!answered) resolve(value);
          else if (value instanceof Promise) value.catch(() => undefined);
        },
        () => {
          this.l2Failed();
          clearTimeout(timer);
          if (!answered) resolve(this.fallbackGet(key));
        },
      );
    });
  }

  async has(key: string): Promise<boolean> {
    return (await this.get(key)) !== undefined;
  }

  async set(key: string, value: unknown, ttlMs: number, sizeBytes: number, tags?: readonly string[]): Promise<void> {
    const now = Date.now();
    const freshUntil = ttlMs > 0 ? now + ttlMs : 0;
    const refreshAt = this.refreshAtOf(now, ttlMs);
    const times = envelopeTimes(freshUntil, refreshAt);
    const payload = ENVELOPE + times + ENVELOPE + this.codec!.encode(key, value, times);
    this.epoch++;
    const failure = await this.toL2('set', () => this.l2.set(key, payload, this.l2Ttl(ttlMs), Buffer.byteLength(payload), tags), [key], true);
    if (failure === undefined) {
      this.l2Stats.sets++;
      this.publish({ n: this.options.namespace, o: 'k', k: [key] });
    } else if (this.options.outageWrites === 'throw') {
      this.l1.delete(key);
      throw new BackendUnavailableError(this.name, this.options.namespace, 'set', failure.cause);
    }
    this.fill(key, value, freshUntil, sizeBytes, refreshAt);
  }

  async mset(entries: readonly BackendEntry[]): Promise<void> {
    const now = Date.now();
    const prepared = entries.map((e) => {
      const freshUntil = e.ttlMs > 0 ? now + e.ttlMs : 0;
      const refreshAt = this.refreshAtOf(now, e.ttlMs);
      const times = envelopeTimes(freshUntil, refreshAt);
      const payload = ENVELOPE + times + ENVELOPE + this.codec!.encode(e.key, e.value, times);
      return { entry: e, freshUntil, refreshAt, l2: { key: e.key, value: payload, ttlMs: this.l2Ttl(e.ttlMs), sizeBytes: Buffer.byteLength(payload), tags: e.tags } };
    });
    this.epoch++;
    const keys = entries.map((e) => e.key);
    const failure = await this.toL2('mset', () => this.l2.mset(prepared.map((p) => p.l2)), keys, true);
    if (failure === undefined) {
      this.l2Stats.sets += entries.length;
      this.publish({ n: this.options.namespace, o: 'k', k: keys });
    } else if (this.options.outageWrites === 'throw') {
      for (const k of keys) this.l1.delete(k);
      throw new BackendUnavailableError(this.name, this.options.namespace, 'mset', failure.cause);
    }
    for (const p of prepared) this.fill(p.entry.key, p.entry.value, p.freshUntil, p.entry.sizeBytes, p.refreshAt);
  }

  async delete(key: string): Promise<boolean> {
    this.epoch++;
    const inL1 = this.l1.delete(key);
    let inL2 = false;
    if (await this.toL2('delete', async () => { inL2 = await this.l2.delete(key); }, [key]) === undefined) {
      this.publish({ n: this.options.namespace, o: 'k', k: [key] });
    }
    return inL1 || inL2;
  }

  async mget(keys: readonly string[]): Promise<unknown[]> {
    const values = keys.map((k) => this.local(k));
    const missing: number[] = [];
    values.forEach((v, i) => v === undefined && missing.push(i));
    this.l1Stats.misses += missing.length;
    if (missing.length === 0) return values;
    if (!this.options.breaker.allows) {
      for (const i of missing) values[i] = this.fallbackGet(keys[i]);
      return values;
    }
    const epoch = this.epoch;
    let payloads: unknown[];
    try {
      payloads = await this.l2.mget(missing.map((i) => keys[i]));
      this.l2Succeeded();
    } catch {
      this.l2Failed();
      for (const i of missing) values[i] = this.fallbackGet(keys[i]);
      return values;
    }
    for (let j = 0; j < missing.length; j++) {
      const i = missing[j];
      if (payloads[j] === undefined) this.l2Missed(keys[i], epoch);
      else values[i] = await this.accept(keys[i], payloads[j] as string | OversizedPayload, epoch);
    }
    return values;
  }

  async clear(): Promise<number> {
    this.epoch++;
    const inL1 = this.l1.clear();
    let removed = inL1;
    if (await this.toL2('clear', async () => { removed = await this.l2.clear(); }, null) === undefined) {
      this.publish({ n: this.options.namespace, o: 'c' });
    }
    return removed;
  }

  stats(): BackendStats {
    const l1 = this.l1.stats();
    return {
      entries: l1.entries,
      bytes: l1.bytes,
      evictions: l1.evictions,
      expirations: l1.expirations,
      staleServed: this.staleServed,
      fallbacks: this.fallbacks,
      l1OnlyWrites: this.l1OnlyWrites,
      tiers: { l1: { ...this.l1Stats }, l2: { ...this.l2Stats } },
      ...(this.options.bus ? { bus: this.options.bus.stats() } : {}),
      breaker: { state: this.options.breaker.state, ...this.options.breaker.transitions },
    };
  }

  /** The L1's eviction strategy and what it learned (`stats().strategy`). */
  strategyState(): Record<string, number | string> {
    return this.l1.strategyState();
  }

  /** A tag invalidation clears this namespace's L1 everywhere: L1 entries filled from L2 do not know their tags. */
  private async removeTag(tag: string): Promise<number> {
    this.epoch++;
    this.l1.clear();
    let removed = 0;
    if (await this.toL2('invalidateTag', async () => { removed = await this.l2.invalidateTag!(tag); }, null) === undefined) {
      this.publish({ n: this.options.namespace, o: 'c' });
    }
    return removed;
  }

  /**
   * Re-encrypt-on-read: swaps the body of the L2 entry (keeping its envelope and TTL) only if it still
   * holds `expected`. L1 keeps its live value: the logical value is the same, so nothing is published.
   */
  private async replaceBody(key: string, expected: unknown, replacement: unknown): Promise<boolean> {
    if (!this.options.breaker.allows) return false;
    try {
      const current = await this.l2.get(key);
      if (typeof current !== 'string') return false;
      const { body } = this.unwrap(current);
      if (body !== expected) return false;
      const envelope = current.slice(0, current.length - body.length);
      const replaced = await this.l2.replaceIfUnchanged!(key, current, envelope + (replacement as string));
      this.l2Succeeded();
      return replaced;
    } catch {
      this.l2Failed();
      return false;
    }
  }

  /**
   * Drops an entry found tampered or unreadable: in L2 only if it still holds that body (a newer write
   * that landed since the read stays), and in L1 and on the bus like any delete.
   */
  private async deleteBody(key: string, expectedBody: unknown): Promise<boolean> {
    this.epoch++;
    this.l1.delete(key);
    if (!this.options.breaker.allows) return false;
    try {
      let deleted: boolean;
      // Oversized: never read in full; L2 deletes it only if it is still over the limit.
      if (expectedBody instanceof OversizedPayload) deleted = await this.l2.deleteIfUnchanged!(key, expectedBody);
      else {
        const current = await this.l2.get(key);
        if (typeof current !== 'string' || this.unwrap(current).body !== expectedBody) return false;
        deleted = await this.l2.deleteIfUnchanged!(key, current);
      }
      this.l2Succeeded();
      if (deleted) this.publish({ n: this.options.namespace, o: 'k', k: [key] });
      return deleted;
    } catch {
      this.l2Failed();
      return false;
    }
  }

  private async accept(key: string, payload: string | OversizedPayload, epoch: number): Promise<unknown> {
    if (typeof payload !== 'string') {
      // Over the size limit, unread: the namespace's codec counts and drops it.
      await this.codec!.decode(key, payload, '');
      this.l2Stats.misses++;
      return undefined;
    }
    const { freshUntil, refreshAt, times, body } = this.unwrap(payload);
    const value = await this.codec!.decode(key, body, times);
    if (value === undefined) {
      this.l2Stats.misses++;
      return undefined;
    }
    // Keep a stale entry in L1 too (it is within grace, or L2 would have dropped it): fail-safe answers from there.
    if (epoch === this.epoch) this.fill(key, value, freshUntil, sizeOf(value, body), refreshAt);
    if (freshUntil !== 0 && freshUntil <= Date.now()) {
      this.l2Stats.misses++;
      return undefined;
    }
    this.l2Stats.hits++;
    this.markTier('l2');
    return value;
  }

  /**
   * L2 is down: the L1 copy answers. A copy still known fresh answers as such; any other is a stale
   * answer, given only with fail-safe grace (flagged `staleServed`); without grace it is a miss.
   */
  private fallbackGet(key: string): unknown {
    this.noteFallback('get');
    const entry = this.l1.get(key) as L1Entry | undefined;
    if (entry === undefined) return undefined;
    if (!this.confirmedFresh(entry, Date.now())) {
      if (this.graceMs === 0) return undefined;
      this.reportStale(key, 'backend-down');
    }
    this.answeredByL1();
    return entry.value;
  }

  /**
   * Whether an L1 copy is within the staleness bound: filled since the last resync, within its TTL,
   * and (with a bus) the bus proved delivery recently enough (`InvalidationBus.confirmedAt`), even if
   * it has just been lost. Without a bus, `l1.ttl` is the bound.
   */
  private confirmedFresh(entry: L1Entry, now: number): boolean {
    return entry.generation === this.generation && (entry.freshUntil === 0 || entry.freshUntil > now)
      && (this.options.bus === undefined || this.options.bus.confirmedAt(now));
  }

  /** A read first counted as an L1 miss (no fresh copy) that L1 answered after all (fallback, soft timeout). */
  private answeredByL1(): void {
    this.l1Stats.misses--;
    this.l1Stats.hits++;
    this.markTier('l1');
  }

  private markTier(tier: 'l1' | 'l2'): void {
    if (this.codec?.traced === true) markCacheTier(tier);
  }

  /** The L1 copy of `key` if it is within its TTL, whatever its trust generation. */
  private timeFresh(key: string): L1Entry | undefined {
    const entry = this.l1.get(key) as L1Entry | undefined;
    return entry !== undefined && (entry.freshUntil === 0 || entry.freshUntil > Date.now()) ? entry : undefined;
  }

  /**
   * Runs an L2 write: `undefined` when it landed; otherwise the keys are recorded for replay and the
   * failure is answered (the caller goes on with L1, or refuses a value write with `outageWrites: 'throw'`).
   */
  private async toL2(
    operation: string, write: () => unknown, keys: readonly string[] | null, writesValues = false,
  ): Promise<{ cause: unknown } | undefined> {
    let cause: unknown = 'its circuit is open';
    if (this.options.breaker.allows) {
      try {
        await write();
        // L2 now holds the newest state of these keys: nothing left to replay for them.
        if (keys !== null && !this.dirtyAll) for (const k of keys) this.dirtyKeys.delete(k);
        this.l2Succeeded();
        return undefined;
      } catch (error) {
        // A refusal (tags on a prefix without a hash tag on Cluster, a value too large…) is the
        // caller's error, not an outage: it must not count toward the breaker or mark keys dirty.
        if (error instanceof CacheError && !(error instanceof BackendUnavailableError)) throw error;
        this.l2Failed();
        cause = error;
      }
    }
    if (!writesValues) {
      this.noteFallback(operation);
    } else if (this.options.outageWrites !== 'throw') {
      this.l1OnlyWrites += keys!.length;
      this.noteFallback(operation, true);
    }
    if (keys === null || this.dirtyKeys.size + keys.length > MAX_DIRTY_KEYS) {
      this.dirtyAll = true;
      this.dirtyKeys.clear();
    } else if (!this.dirtyAll) {
      for (const k of keys) this.dirtyKeys.add(k);
    }
    return { cause };
  }

  private fill(key: string, value: unknown, freshUntil: number, sizeBytes: number, refreshAt: number): void {
    const now = Date.now();
    let ttl = this.options.l1TtlMs;
    if (freshUntil !== 0) {
      const left = freshUntil + this.graceMs - now;
      if (left <= 0) return;
      ttl = ttl === 0 ? left : Math.min(ttl, left);
    }
    this.l1.set(key, new L1Entry(value, freshUntil, refreshAt, this.generation), ttl, sizeBytes);
    this.l1Stats.sets++;
  }

  /** Breaker half-open: replay what L2 missed, then drop L1. Throws (keeping the breaker open) if L2 still fails. */
  private async recover(): Promise<void> {
    let dropped: string;
    if (this.dirtyAll) {
      await this.l2.clear();
      this.dirtyAll = false;
      this.publish({ n: this.options.namespace, o: 'c' });
      dropped = 'the namespace was cleared in L2 (too many keys changed during the outage)';
    } else if (this.dirtyKeys.size > 0) {
      const keys = [...this.dirtyKeys];
      dropped = `${keys.length} key(s) written or invalidated during the outage were deleted in L2`;
      for (let i = 0; i < keys.length; i += DIRTY_REPLAY_BATCH) {
        const batch = keys.slice(i, i + DIRTY_REPLAY_BATCH);
        await Promise.all(batch.map((k) => this.l2.delete(k)));
        for (const k of batch) this.dirtyKeys.delete(k);
        this.publish({ n: this.options.namespace, o: 'k', k: batch });
      }
    } else {
      await this.l2.has('\u001fprobe');
      dropped = 'nothing was written during the outage';
    }
    this.dropL1();
    this.logger.log(`Namespace "${this.options.namespace}" recovered: L1 invalidated after the outage; ${dropped}`);
  }

  private applyRemote(message: BusMessage): void {
    this.epoch++;
    if (message.o === 'c') this.l1.clear();
    else for (const key of message.k ?? []) this.l1.delete(key);
  }

  private dropL1(): void {
    this.epoch++;
    this.l1.clear();
  }

  /**
   * The bus is back after a gap in which invalidations may have been missed: no L1 copy is served as
   * fresh any more. With fail-safe grace the copies stay, as stale ones: reads go to L2 and fall
   * back to them only when L2 fails or is slower than `softTimeout` (on a Cluster the bus can come
   * back while one slot's master is still failing over); without grace they are dropped.
   */
  private resync(): void {
    if (this.graceMs === 0) {
      this.dropL1();
      return;
    }
    this.epoch++;
    this.generation++;
  }

  private publish(message: BusMessage): void {
    this.options.bus?.publish(message);
  }

  /**
   * A write that failed while the breaker stayed closed (a short blip) is replayed at the next
   * successful call, since no half-open probe will come to do it.
   */
  private l2Succeeded(): void {
    this.options.breaker.success();
    if ((this.dirtyAll || this.dirtyKeys.size > 0) && !this.replaying) {
      this.replaying = true;
      this.recover().catch(() => undefined).finally(() => (this.replaying = false));
    }
  }

  private l2Failed(): void {
    this.l2Stats.errors++;
    this.options.breaker.failure();
  }

  private noteFallback(operation: string, l1Only = false): void {
    this.fallbacks++;
    if (this.options.events.has('fallback')) {
      this.options.events.emit('fallback', l1Only
        ? { namespace: this.options.namespace, operation, backend: this.name, l1Only }
        : { namespace: this.options.namespace, operation, backend: this.name });
    }
  }

  private l2Ttl(ttlMs: number): number {
    return ttlMs > 0 ? ttlMs + this.graceMs : 0;
  }

  private refreshAtOf(now: number, ttlMs: number): number {
    const share = this.options.earlyRefresh ?? 0;
    return share > 0 && ttlMs > 0 ? now + Math.floor(ttlMs * share) : 0;
  }

  /** A payload without a (valid) envelope was written by a namespace without tiers: its expiry is unknown. */
  /** `times` is the envelope's text as stored ('' without one): what an encrypted body was sealed with. */
  private unwrap(payload: string): { freshUntil: number; refreshAt: number; times: string; body: string } {
    if (payload.charCodeAt(0) !== 0x1e) return { freshUntil: 0, refreshAt: 0, times: '', body: payload };
    const end = payload.indexOf(ENVELOPE, 1);
    const times = end > 0 ? payload.slice(1, end) : '';
    const [fresh, refresh] = times.split(':');
    const freshUntil = parseInt(fresh, 36);
    const refreshAt = refresh === undefined ? 0 : parseInt(refresh, 36);
    if (!Number.isFinite(freshUntil) || !Number.isFinite(refreshAt)) return { freshUntil: 0, refreshAt: 0, times: '', body: payload };
    return { freshUntil, refreshAt, times, body: payload.slice(end + 1) };
  }
}

/** L1 bytes of a value filled from L2: what the namespace measures on `set` (its estimate of the live value). */
function sizeOf(value: unknown, body: string): number {
  try {
    return estimateValueSize(value);
  } catch {
    return body.length * 2;
  }
}

/** The envelope's text: logical expiry, and early-refresh time when there is one, in base 36 (ms since epoch). */
function envelopeTimes(freshUntil: number, refreshAt: number): string {
  return refreshAt > 0 ? `${freshUntil.toString(36)}:${refreshAt.toString(36)}` : freshUntil.toString(36);
}

export function isTieredBackend(backend: CacheBackend): backend is TieredBackend {
  return backend instanceof TieredBackend;
}
