import { BackendStats } from '../backends/cache-backend.interface';
import { MemoryBackend } from '../backends/memory/memory-backend';
import { L1Trust } from './l1-trust';
import { TierReports } from './tier-reports';

/** Lookups and writes of one tier (`stats().tiers`). */
export interface TierCounters {
  hits: number;
  misses: number;
  sets: number;
  errors: number;
}

/**
 * An L1 slot: the live value, when it stops being fresh and when it is due for an early refresh (ms
 * since epoch; 0 = never), and the trust generation it was filled in (see `resync`).
 */
export class L1Entry {
  constructor(readonly value: unknown, readonly freshUntil: number, readonly refreshAt: number, readonly generation: number) {}
}

/**
 * The in-process tier of a `TwoTierStore`: live values in a bounded `MemoryBackend`, each with its
 * logical expiry. A copy answers as fresh only while what keeps it coherent (the bus, Redis key
 * tracking, or both: its `L1Trust`) is trusted, within its TTL, and filled since the last resync;
 * other copies stay for fail-safe (stale answers, answers while L2 is down).
 */
export class L1Tier {
  readonly counters: TierCounters = { hits: 0, misses: 0, sets: 0, errors: 0 };
  /** Bumped on every invalidation, local or remote: an L2 read that raced one must not fill L1. */
  epoch = 0;
  /** Bumped on every invalidation from elsewhere (bus, tracking): a write that raced one does not fill L1. */
  remoteEpoch = 0;
  /** Bumped when the bus resyncs: entries of an older generation are stale copies, never fresh. */
  private generation = 0;

  constructor(
    private readonly memory: MemoryBackend,
    /** Undefined on a backend other than Redis: `l1.ttl` is the bound. */
    private readonly trust: L1Trust | undefined,
    /** Longest life of a copy; 0 = as long as in L2. */
    private readonly ttlMs: number,
    private readonly graceMs: number,
    private readonly reports: TierReports,
  ) {}

  /** A fresh, trusted copy (the namespace's hit path, counted as an L1 hit); `undefined` sends the read on. */
  fresh(key: string): unknown {
    const entry = this.memory.get(key) as L1Entry | undefined;
    if (entry === undefined || (this.trust !== undefined && !this.trust.trusted)
      || entry.generation !== this.generation || (entry.freshUntil !== 0 && entry.freshUntil <= Date.now())) {
      return undefined; // Counted as an L1 miss by the read that follows.
    }
    this.counters.hits++;
    return entry.value;
  }

  /** Any copy, fresh or not (within grace: L1 keeps nothing longer). */
  entry(key: string): L1Entry | undefined {
    return this.memory.get(key) as L1Entry | undefined;
  }

  /** The copy of `key` if it is within its TTL, whatever its trust generation. */
  withinTtl(key: string): L1Entry | undefined {
    const entry = this.entry(key);
    return entry !== undefined && (entry.freshUntil === 0 || entry.freshUntil > Date.now()) ? entry : undefined;
  }

  /** Whether a copy is past its early-refresh time (checked on `getOrSet` hits only). */
  refreshDue(key: string): boolean {
    const entry = this.entry(key);
    return entry !== undefined && entry.refreshAt !== 0 && entry.refreshAt <= Date.now();
  }

  /**
   * Whether a copy is within the staleness bound: filled since the last resync, within its TTL, and
   * (with a bus or tracking) it proved delivery recently enough (`L1Trust.confirmedAt`), even if it
   * has just been lost. Without either, `l1.ttl` is the bound.
   */
  confirmedFresh(entry: L1Entry, now: number): boolean {
    return entry.generation === this.generation && (entry.freshUntil === 0 || entry.freshUntil > now)
      && (this.trust === undefined || this.trust.confirmedAt(now));
  }

  /**
   * L2 is down: the copy answers. One still known fresh answers as such; any other is a stale answer,
   * given only with fail-safe grace (flagged `staleServed`); without grace it is a miss.
   */
  fallback(key: string): unknown {
    this.reports.fallback('get');
    const entry = this.entry(key);
    if (entry === undefined) return undefined;
    if (!this.confirmedFresh(entry, Date.now())) {
      if (this.graceMs === 0) return undefined;
      this.reports.stale(key, 'backend-down');
    }
    this.answered();
    return entry.value;
  }

  /**
   * L2 is slower than `failSafe.softTimeout`: a copy still within its TTL (held back only by a resync
   * or a distrusted bus) answers; one past its TTL waits for L2 (fail-safe's stale answers are
   * `getOrSet`'s call). `undefined`: no such copy.
   */
  slowL2(key: string): L1Entry | undefined {
    const copy = this.withinTtl(key);
    if (copy === undefined) return undefined;
    this.reports.fallback('get');
    this.answered();
    if (!this.confirmedFresh(copy, Date.now())) this.reports.stale(key, 'backend-down');
    return copy;
  }

  /** Keeps a copy until `l1.ttl`, or until its grace ends (fail-safe answers from here); one past its grace is not kept. */
  fill(key: string, value: unknown, freshUntil: number, sizeBytes: number, refreshAt: number): void {
    const now = Date.now();
    let ttl = this.ttlMs;
    if (freshUntil !== 0) {
      const left = freshUntil + this.graceMs - now;
      if (left <= 0) return;
      ttl = ttl === 0 ? left : Math.min(ttl, left);
    }
    this.memory.set(key, new L1Entry(value, freshUntil, refreshAt, this.generation), ttl, sizeBytes);
    this.counters.sets++;
  }

  /** A read that started at `epoch` found no entry in L2: its copy goes, unless an invalidation came in between. */
  forget(key: string, epoch: number): void {
    if (epoch === this.epoch) this.memory.delete(key);
  }

  delete(key: string): boolean {
    this.epoch++;
    return this.memory.delete(key);
  }

  /** Another instance or another client of Redis changed these keys (`null`: all of them). */
  invalidated(keys: readonly string[] | null): void {
    this.remoteEpoch++;
    if (keys === null) this.clear();
    else for (const key of keys) this.delete(key);
  }

  clear(): number {
    this.epoch++;
    return this.memory.clear();
  }

  /**
   * The bus is back after a gap in which invalidations may have been missed: no copy is served as
   * fresh any more. With fail-safe grace the copies stay, as stale ones: reads go to L2 and fall back
   * to them only when L2 fails or is slower than `softTimeout` (on a Cluster the bus can come back
   * while one slot's master is still failing over); without grace they are dropped.
   */
  resync(): void {
    if (this.graceMs === 0) {
      this.clear();
      return;
    }
    this.epoch++;
    this.generation++;
  }

  /** A read first counted as an L1 miss (no fresh copy) that L1 answered after all. */
  private answered(): void {
    this.counters.misses--;
    this.counters.hits++;
    this.reports.tier('l1');
  }

  stats(): BackendStats {
    return this.memory.stats();
  }

  strategyState(): Record<string, number | string> {
    return this.memory.strategyState();
  }
}
