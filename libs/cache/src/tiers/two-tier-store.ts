import { BackendEntry, BackendStats, OversizedPayload } from '../backends/cache-backend.interface';
import { RedisLock } from '../backends/redis/redis-lock';
import { PayloadOwner, PreparedValue } from '../codec/value-codec';
import { BackendUnavailableError } from '../errors/backend-unavailable.error';
import { estimateValueSize } from '../serialization/estimate-value-size';
import { NamespaceStore } from '../store/namespace-store';
import { BusMessage } from './bus-wire';
import { L1Tier } from './l1-tier';
import { L2Tier } from './l2-tier';
import { StaleReason } from './resilient-load';
import { envelopeTimes, openEnvelope, wrapEnvelope } from './tier-envelope';
import { TwoTierStoreOptions } from './tier-options';
import { TierReports } from './tier-reports';

/**
 * Two tiers behind one namespace: an `L1Tier` (live values in this process) in front of an `L2Tier`
 * (a byte backend shared by the instances, behind its circuit breaker), with the invalidation bus
 * between the instances' L1s. Built with the namespace's codec, which makes and reads the L2 bodies.
 *
 * - get: a fresh, trusted L1 copy answers without any L2 command (`fresh`, the namespace's hit path);
 *   a miss reads L2, decodes the body and fills L1.
 * - writes and invalidations go to L2, then L1, then are published on the bus so other instances
 *   drop their copies.
 * - grace: L2 keeps an entry `graceMs` past its TTL (its logical expiry travels in an envelope, see
 *   `tier-envelope.ts`), so that `getOrSet` can answer a stale value when the loader fails or L2 is down.
 * - L2 down (a call failed, or the breaker is open): reads answer from L1 a copy still known fresh
 *   (`L1Tier.confirmedFresh`), or, with grace only, any copy as a stale answer (`staleServed`); writes
 *   go to L1 only (reported, or refused with `outageWrites: 'throw'`) and their keys are recorded. At
 *   recovery (breaker half-open) they are deleted in L2, then L1 is cleared: L1 is *invalidated*, not
 *   revalidated, so nothing written before or during the outage is trusted after it.
 */
export class TwoTierStore extends NamespaceStore implements PayloadOwner {
  readonly name: string;
  readonly tags: boolean;
  /** What the module's observer treats like a live-value backend (sampled latency: most reads are L1 hits). */
  readonly storesLiveValues = true;
  readonly replace?: (key: string, payload: string | Buffer, replacement: string | Buffer) => Promise<boolean>;
  /** The cross-instance lock of `getOrSet` misses (`lock` on Redis). */
  readonly lock: RedisLock | undefined;
  readonly graceMs: number;
  readonly l1: L1Tier;
  private readonly l2: L2Tier;
  private readonly reports: TierReports;

  constructor(private readonly options: TwoTierStoreOptions) {
    super(options.codec);
    this.name = options.l2.name;
    this.tags = typeof options.l2.invalidateTag === 'function';
    this.lock = options.lock;
    this.graceMs = options.graceMs;
    this.reports = new TierReports(options.namespace, options.l2.name, options.events, options.traced === true);
    this.l1 = new L1Tier(options.l1, options.bus, options.l1TtlMs, options.graceMs, this.reports);
    this.l2 = new L2Tier({
      namespace: options.namespace,
      backend: options.l2,
      breaker: options.breaker,
      reports: this.reports,
      outageWrites: options.outageWrites,
      publish: (message) => this.publish(message),
      invalidateL1: () => this.l1.clear(),
    });
    if (typeof options.l2.replaceIfUnchanged === 'function') this.replace = (key, payload, replacement) => this.l2.replaceBody(key, payload, replacement);
    options.bus?.register(options.namespace, {
      apply: (message) => this.applyRemote(message),
      resync: () => this.l1.resync(),
    });
  }

  /** The L1 value even if past its TTL (within grace): what fail-safe answers with. */
  stale(key: string): unknown {
    return this.l1.entry(key)?.value;
  }

  /** Counts and reports a stale answer given by the namespace. */
  reportStale(key: string, reason: StaleReason): void {
    this.reports.stale(key, reason);
  }

  /** L1 keeps live values: measured here; the L2 body is encoded by `set`, once its envelope is known. */
  prepare(value: unknown, path: string): PreparedValue {
    return this.codec.measure(value, path);
  }

  async get(key: string): Promise<unknown> {
    const hit = this.l1.fresh(key);
    if (hit !== undefined) return hit;
    this.l1.counters.misses++;
    if (!this.l2.allows) return this.l1.fallback(key);
    const epoch = this.l1.epoch;
    const soft = this.options.l2ReadSoftTimeoutMs ?? 0;
    if (soft > 0 && this.l1.withinTtl(key) !== undefined) return this.getWithSoftTimeout(key, epoch, soft);
    let payload: unknown;
    try {
      payload = await this.l2.backend.get(key);
      this.l2.succeeded();
    } catch {
      this.l2.failed();
      return this.l1.fallback(key);
    }
    return this.fromL2(key, payload, epoch);
  }

  async has(key: string): Promise<boolean> {
    return (await this.get(key)) !== undefined;
  }

  set(key: string, value: unknown, ttlMs: number, sizeBytes: number, tags?: readonly string[]): Promise<void> {
    return this.write('set', [{ key, value, ttlMs, sizeBytes, tags }], ([e]) => this.l2.backend.set(e.key, e.value, e.ttlMs, e.sizeBytes, e.tags));
  }

  mset(entries: readonly BackendEntry[]): Promise<void> {
    return this.write('mset', entries, (l2) => this.l2.backend.mset(l2));
  }

  async delete(key: string): Promise<boolean> {
    const inL1 = this.l1.delete(key);
    let inL2 = false;
    if (await this.l2.write('delete', async () => { inL2 = await this.l2.backend.delete(key); }, [key]) === undefined) {
      this.publish({ n: this.options.namespace, o: 'k', k: [key] });
    }
    return inL1 || inL2;
  }

  async mget(keys: readonly string[]): Promise<unknown[]> {
    const values = keys.map((k) => this.l1.fresh(k));
    const missing: number[] = [];
    values.forEach((v, i) => v === undefined && missing.push(i));
    this.l1.counters.misses += missing.length;
    if (missing.length === 0) return values;
    if (!this.l2.allows) {
      for (const i of missing) values[i] = this.l1.fallback(keys[i]);
      return values;
    }
    const epoch = this.l1.epoch;
    let payloads: unknown[];
    try {
      payloads = await this.l2.backend.mget(missing.map((i) => keys[i]));
      this.l2.succeeded();
    } catch {
      this.l2.failed();
      for (const i of missing) values[i] = this.l1.fallback(keys[i]);
      return values;
    }
    for (let j = 0; j < missing.length; j++) {
      const i = missing[j];
      if (payloads[j] === undefined) this.l2Missed(keys[i], epoch);
      else values[i] = await this.accept(keys[i], payloads[j] as string | Buffer | OversizedPayload, epoch);
    }
    return values;
  }

  async clear(): Promise<number> {
    let removed = this.l1.clear();
    if (await this.l2.write('clear', async () => { removed = await this.l2.backend.clear(); }, null) === undefined) {
      this.publish({ n: this.options.namespace, o: 'c' });
    }
    return removed;
  }

  /** A tag invalidation clears this namespace's L1 everywhere: L1 entries filled from L2 do not know their tags. */
  async invalidateTag(tag: string): Promise<number> {
    this.l1.clear();
    let removed = 0;
    if (await this.l2.write('invalidateTag', async () => { removed = await this.l2.backend.invalidateTag!(tag); }, null) === undefined) {
      this.publish({ n: this.options.namespace, o: 'c' });
    }
    return removed;
  }

  /**
   * Drops an entry the codec refused (tampered, unreadable, oversized): in L1 and on the bus like any
   * delete, and in L2 only if it still holds that body (a newer write that landed since the read stays).
   */
  async drop(key: string, body: unknown): Promise<boolean> {
    if (typeof this.l2.backend.deleteIfUnchanged !== 'function') return this.delete(key);
    this.l1.delete(key);
    return this.l2.deleteBody(key, body);
  }

  stats(): BackendStats {
    const l1 = this.l1.stats();
    return {
      entries: l1.entries,
      bytes: l1.bytes,
      evictions: l1.evictions,
      expirations: l1.expirations,
      staleServed: this.reports.staleServed,
      fallbacks: this.reports.fallbacks,
      l1OnlyWrites: this.reports.l1OnlyWrites,
      tiers: { l1: { ...this.l1.counters }, l2: { ...this.l2.counters } },
      ...(this.options.bus ? { bus: this.options.bus.stats() } : {}),
      breaker: { state: this.options.breaker.state, ...this.options.breaker.transitions },
    };
  }

  /** The L1's eviction strategy and what it learned (`stats().strategy`). */
  strategyState(): Record<string, number | string> {
    return this.l1.strategyState();
  }

  private fromL2(key: string, payload: unknown, epoch: number): unknown {
    if (payload === undefined) {
      this.l2Missed(key, epoch);
      return undefined;
    }
    return this.accept(key, payload as string | Buffer | OversizedPayload, epoch);
  }

  /**
   * L2 answered that it has no entry: that is authoritative. An L1 copy of the key (kept as a stale
   * copy after a resync, or within grace) may be one whose invalidation this instance missed, so it
   * goes, and fail-safe can never answer it later.
   */
  private l2Missed(key: string, epoch: number): void {
    this.l2.counters.misses++;
    this.l1.forget(key, epoch);
  }

  /** The L2 read, or the L1 copy if L2 takes longer than `softMs` (the read goes on and fills L1 when it lands). */
  private getWithSoftTimeout(key: string, epoch: number, softMs: number): Promise<unknown> {
    return new Promise((resolve) => {
      let answered = false;
      const timer = setTimeout(() => {
        const copy = this.l1.slowL2(key);
        if (copy === undefined) return;
        answered = true;
        resolve(copy.value);
      }, softMs);
      Promise.resolve().then(() => this.l2.backend.get(key)).then(
        (payload: unknown) => {
          this.l2.succeeded();
          clearTimeout(timer);
          const value = this.fromL2(key, payload, epoch);
          if (!answered) resolve(value);
          else if (value instanceof Promise) value.catch(() => undefined);
        },
        () => {
          this.l2.failed();
          clearTimeout(timer);
          if (!answered) resolve(this.l1.fallback(key));
        },
      );
    });
  }

  /** An L2 payload taken out of its envelope and decoded; it fills L1 (also when past its TTL: fail-safe answers from there). */
  private async accept(key: string, payload: string | Buffer | OversizedPayload, epoch: number): Promise<unknown> {
    if (payload instanceof OversizedPayload) {
      // Over the size limit, unread: the codec counts it and has it dropped.
      await this.codec.decode(key, payload, '', this);
      this.l2.counters.misses++;
      return undefined;
    }
    const { freshUntil, refreshAt, times, body } = openEnvelope(payload);
    const value = await this.codec.decode(key, body, times, this);
    if (value === undefined) {
      this.l2.counters.misses++;
      return undefined;
    }
    // A stale entry is within grace, or L2 would have dropped it.
    if (epoch === this.l1.epoch) this.l1.fill(key, value, freshUntil, sizeOf(value, body), refreshAt);
    if (freshUntil !== 0 && freshUntil <= Date.now()) {
      this.l2.counters.misses++;
      return undefined;
    }
    this.l2.counters.hits++;
    this.reports.tier('l2');
    return value;
  }

  /**
   * Live values in, each encoded with its envelope for L2 (all of them before anything is written),
   * sent to L2 by `send`, then kept in L1; with L2 down, kept in L1 only or refused (`outageWrites`).
   */
  private async write(operation: 'set' | 'mset', entries: readonly BackendEntry[], send: (l2: BackendEntry[]) => unknown): Promise<void> {
    const now = Date.now();
    const prepared = entries.map((e) => {
      const freshUntil = e.ttlMs > 0 ? now + e.ttlMs : 0;
      const refreshAt = this.refreshAtOf(now, e.ttlMs);
      const payload = this.payloadOf(e.key, e.value, freshUntil, refreshAt);
      return { entry: e, freshUntil, refreshAt, l2: { key: e.key, value: payload, ttlMs: this.l2Ttl(e.ttlMs), sizeBytes: Buffer.byteLength(payload), tags: e.tags } };
    });
    this.l1.epoch++;
    const keys = entries.map((e) => e.key);
    const failure = await this.l2.write(operation, () => send(prepared.map((p) => p.l2)), keys, true);
    if (failure === undefined) {
      this.l2.counters.sets += entries.length;
      this.publish({ n: this.options.namespace, o: 'k', k: keys });
    } else if (this.options.outageWrites === 'throw') {
      for (const k of keys) this.l1.delete(k);
      throw new BackendUnavailableError(this.name, this.options.namespace, operation, failure.cause);
    }
    for (const p of prepared) this.l1.fill(p.entry.key, p.entry.value, p.freshUntil, p.entry.sizeBytes, p.refreshAt);
  }

  /** The L2 payload of a value: its envelope, then the body the codec makes (sealed for the key and the envelope). */
  private payloadOf(key: string, value: unknown, freshUntil: number, refreshAt: number): string | Buffer {
    const times = envelopeTimes(freshUntil, refreshAt);
    return wrapEnvelope(times, this.codec.encode(value, 'value', key, times).stored as string | Buffer);
  }

  private applyRemote(message: BusMessage): void {
    if (message.o === 'c') this.l1.clear();
    else {
      this.l1.epoch++;
      for (const key of message.k ?? []) this.l1.delete(key);
    }
  }

  private publish(message: BusMessage): void {
    this.options.bus?.publish(message);
  }

  private l2Ttl(ttlMs: number): number {
    return ttlMs > 0 ? ttlMs + this.graceMs : 0;
  }

  private refreshAtOf(now: number, ttlMs: number): number {
    const share = this.options.earlyRefresh ?? 0;
    return share > 0 && ttlMs > 0 ? now + Math.floor(ttlMs * share) : 0;
  }
}

/** L1 bytes of a value filled from L2: what the namespace measures on `set` (its estimate of the live value). */
function sizeOf(value: unknown, body: string | Buffer): number {
  try {
    return estimateValueSize(value);
  } catch {
    return body.length * 2;
  }
}

/** The observer samples a tiered namespace's latency like memory's. */
export function isTwoTierStore(store: unknown): store is TwoTierStore {
  return store instanceof TwoTierStore;
}
