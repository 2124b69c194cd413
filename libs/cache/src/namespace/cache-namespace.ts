import { Logger } from '@nestjs/common';
import { BackendEntry, CacheBackend } from '../backends/cache-backend.interface';
import { isTieredBackend, TieredBackend } from '../backends/tiered/tiered-backend';
import { BackendUnavailableError } from '../errors/backend-unavailable.error';
import { CacheError } from '../errors/cache-error';
import { InvalidValueError } from '../errors/invalid-value.error';
import { ValueTooLargeError } from '../errors/value-too-large.error';
import { TagsUnsupportedError } from '../errors/tags-unsupported.error';
import { assertValidKey, assertValidTags } from '../keys/assert-valid-key';
import { ResolvedNamespaceOptions } from '../options/resolved-namespace-options';
import { estimateValueSize } from '../serialization/estimate-value-size';
import { UnsupportedValueError } from '../serialization/unsupported-value.error';
import { parseTtl, Ttl } from '../ttl/parse-ttl';
import { CacheEvents } from '../events/cache-events';
import { refreshLoad, resilientLoad, ResilientLoadPlan } from '../resilience/resilient-load';
import { NamespaceStats } from './namespace-stats';

export interface SetOptions {
  /** Overrides the namespace's default TTL: milliseconds (0 = no expiry) or `'30s'`, `'1h'`… */
  ttl?: Ttl;
  /** Tags the entry carries; `invalidateTag(tag)` removes every entry carrying `tag`. */
  tags?: readonly string[];
}

export interface GetOrSetOptions<T> extends SetOptions {
  /** Store the loaded value only when this returns true (e.g. `(tracks) => tracks.length > 0`). */
  cacheIf?: (value: T) => boolean;
}

export interface CacheEntryInput<T> {
  key: string;
  value: T;
  ttl?: Ttl;
  tags?: readonly string[];
}

const RESOLVED_UNDEFINED: Promise<undefined> = Promise.resolve(undefined);
/** A synchronous live-value backend, whose hits need no await. */
type FastBackend = { get(key: string): unknown };
const WARN_INTERVAL_MS = 10_000;

/** A running `getOrSet` load. `superseded` is set when the key is written, invalidated or cleared meanwhile. */
class Flight {
  superseded = false;
  promise!: Promise<unknown>;
}

/**
 * The cache of one namespace: what `@InjectCache('users')` injects and what `CacheService` delegates
 * to. Validates keys, values and TTLs, serializes for byte-storing backends, and turns backend
 * failures into `BackendUnavailableError`. `V` types the values of the namespace.
 *
 * `get` resolves `undefined` on a miss; a stored `null` comes back as `null`. Storing `undefined` is
 * rejected (store `null` to cache an absence).
 */
export class CacheNamespace<V = unknown> {
  readonly name: string;
  private readonly fast: FastBackend | null;
  /** Set for namespaces with an `l1`: hits come from its synchronous L1 lookup. */
  private readonly tier: TieredBackend | null;
  private readonly live: boolean;
  private readonly inflight = new Map<string, Flight>();
  private readonly logger = new Logger('CacheNamespace');
  private lastWarnAt = 0;
  private hits = 0;
  private misses = 0;
  private sets = 0;
  private invalidations = 0;
  private errors = 0;
  private dropped = 0;

  constructor(
    private readonly options: ResolvedNamespaceOptions,
    private readonly backend: CacheBackend,
    private readonly events: CacheEvents = new CacheEvents(),
  ) {
    this.name = options.name;
    this.live = backend.storesLiveValues;
    this.fast = backend.synchronous && backend.storesLiveValues ? (backend as FastBackend) : null;
    this.tier = isTieredBackend(backend) ? backend : null;
    // L2 bytes go through this namespace's own pipeline, exactly as for a byte backend.
    this.tier?.attachCodec({ encode: (value) => this.encodeForTier(value), decode: (key, payload) => this.decode(key, payload) });
  }

  get<T extends V = V>(key: string): Promise<T | undefined> {
    if (this.fast !== null) {
      // Hot path: a synchronous lookup and an already-resolved promise; keys are validated on a miss
      // only, because a key that was never valid can never have been stored.
      let value: unknown;
      try {
        value = this.fast.get(key);
      } catch (error) {
        return Promise.reject(this.failure('get', error));
      }
      if (value !== undefined) {
        this.hits++;
        return Promise.resolve(value as T);
      }
      return this.fastMiss(key);
    }
    if (this.tier !== null) {
      const value = this.tier.local(key);
      if (value !== undefined) {
        this.hits++;
        return Promise.resolve(value as T);
      }
    }
    return this.slowGet<T>(key);
  }

  async set<T extends V = V>(key: string, value: T, options?: SetOptions): Promise<void> {
    assertValidKey(key, this.name, this.options.maxKeyLength);
    const ttlMs = this.ttlOf(options?.ttl, 'set() options.ttl');
    const tags = this.tagsOf(options?.tags);
    const { stored, size } = this.prepare(value, 'value');
    this.supersede(key);
    try {
      await this.backend.set(key, stored, ttlMs, size, tags);
    } catch (error) {
      throw this.failure('set', error);
    }
    this.sets++;
    if (this.events.has('set')) this.events.emit('set', { namespace: this.name, key, ttlMs });
  }

  async has(key: string): Promise<boolean> {
    assertValidKey(key, this.name, this.options.maxKeyLength);
    try {
      return await this.backend.has(key);
    } catch (error) {
      throw this.failure('has', error);
    }
  }

  /** Removes the entry; resolves `true` when there was one. */
  async invalidate(key: string): Promise<boolean> {
    assertValidKey(key, this.name, this.options.maxKeyLength);
    this.supersede(key);
    let removed: boolean;
    try {
      removed = await this.backend.delete(key);
    } catch (error) {
      throw this.failure('invalidate', error);
    }
    this.invalidations++;
    if (this.events.has('invalidate')) this.events.emit('invalidate', { namespace: this.name, key, existed: removed });
    return removed;
  }

  /**
   * Returns the cached value, or runs `loader`, caches what it returns and returns it. Concurrent
   * calls for the same missing key in this process share one loader call. A loader's error is not
   * cached and reaches every waiting caller. If the key is set, invalidated or its namespace cleared
   * while the loader runs, the loaded value still answers the callers that were waiting, but it is
   * not stored (it may be stale), and later callers start a fresh load. When the backend is
   * unavailable, or the value is over the size limit, the loader's value is returned without being
   * cached (and a warning is logged), so a cache failure never fails the caller. A loader that
   * returns `undefined` is not cached. In a namespace with an `l1` (tiers), the miss also goes through
   * the cross-instance lock (`lock`) and the fail-safe timeouts and grace (`failSafe`).
   */
  async getOrSet<T extends V = V>(key: string, loader: () => T | Promise<T>, options?: GetOrSetOptions<T>): Promise<T> {
    const ttlMs = this.ttlOf(options?.ttl, 'getOrSet() options.ttl');
    if (typeof loader !== 'function') throw new TypeError(`getOrSet() in namespace "${this.name}": loader must be a function`);
    const cacheIf = options?.cacheIf as ((value: unknown) => boolean) | undefined;
    const tags = this.tagsOf(options?.tags);
    let cached: T | undefined;
    try {
      cached = await this.get<T>(key);
    } catch (error) {
      if (!(error instanceof BackendUnavailableError)) throw error;
      this.warnDegraded(error);
    }
    if (cached !== undefined) {
      if (this.tier !== null && this.options.resilience!.earlyRefresh > 0 && this.tier.refreshDue(key)) {
        this.refreshEarly(key, cached, loader, ttlMs, cacheIf, tags);
      }
      return cached;
    }
    const running = this.inflight.get(key);
    if (running !== undefined) return running.promise as Promise<T>;
    const flight = new Flight();
    const load = this.load(key, loader, ttlMs, flight, cacheIf, tags);
    flight.promise = load;
    this.inflight.set(key, flight);
    const settle = (): void => {
      if (this.inflight.get(key) === flight) this.inflight.delete(key);
    };
    load.then(settle, settle);
    return load;
  }

  /** Values in the order of `keys`, `undefined` for misses. All keys are checked before any is read. */
  async mget<T extends V = V>(keys: readonly string[]): Promise<(T | undefined)[]> {
    if (!Array.isArray(keys)) throw new TypeError(`mget() in namespace "${this.name}": keys must be an array`);
    for (const key of keys) assertValidKey(key, this.name, this.options.maxKeyLength);
    let stored: unknown[];
    try {
      stored = await this.backend.mget(keys);
    } catch (error) {
      throw this.failure('mget', error);
    }
    const values = new Array<T | undefined>(keys.length);
    for (let i = 0; i < keys.length; i++) {
      const value = stored[i] === undefined || this.live ? stored[i] : await this.decode(keys[i], stored[i] as string);
      if (value === undefined) this.misses++;
      else this.hits++;
      values[i] = value as T | undefined;
    }
    return values;
  }

  /**
   * Writes every entry, or none: keys, TTLs and values are all checked (and serialized) before the
   * first write, and backends write the batch atomically where the store allows it (MULTI on Redis).
   */
  async mset<T extends V = V>(entries: readonly CacheEntryInput<T>[]): Promise<void> {
    if (!Array.isArray(entries)) throw new TypeError(`mset() in namespace "${this.name}": entries must be an array of { key, value, ttl? }`);
    const prepared: BackendEntry[] = entries.map((entry, i) => {
      if (entry === null || typeof entry !== 'object') throw new TypeError(`mset() in namespace "${this.name}": entries[${i}] must be { key, value, ttl? }`);
      assertValidKey(entry.key, this.name, this.options.maxKeyLength);
      const ttlMs = this.ttlOf(entry.ttl, `mset() entries[${i}].ttl`);
      const tags = this.tagsOf(entry.tags);
      const { stored, size } = this.prepare(entry.value, `entries[${i}].value`);
      return { key: entry.key, value: stored, ttlMs, sizeBytes: size, tags };
    });
    for (const entry of prepared) this.supersede(entry.key);
    try {
      await this.backend.mset(prepared);
    } catch (error) {
      throw this.failure('mset', error);
    }
    this.sets += prepared.length;
    if (this.events.has('set')) for (const e of prepared) this.events.emit('set', { namespace: this.name, key: e.key, ttlMs: e.ttlMs });
  }

  /**
   * Removes every entry carrying `tag` (atomically on Redis); resolves how many. Loads running for
   * this namespace are treated as superseded, since their entries may carry the tag.
   */
  async invalidateTag(tag: string): Promise<number> {
    const [checked] = this.tagsOf([tag])!;
    for (const flight of this.inflight.values()) flight.superseded = true;
    this.inflight.clear();
    let removed: number;
    try {
      removed = await this.backend.invalidateTag!(checked);
    } catch (error) {
      throw this.failure('invalidateTag', error);
    }
    this.invalidations += removed;
    this.events.emit('tagInvalidated', { namespace: this.name, tag: checked, removed });
    return removed;
  }

  /** Removes every entry of this namespace; resolves how many were removed. */
  async clear(): Promise<number> {
    for (const flight of this.inflight.values()) flight.superseded = true;
    this.inflight.clear();
    try {
      const removed = await this.backend.clear();
      this.invalidations += removed;
      this.events.emit('namespaceCleared', { namespace: this.name, removed });
      return removed;
    } catch (error) {
      throw this.failure('clear', error);
    }
  }

  stats(): NamespaceStats {
    const lookups = this.hits + this.misses;
    const backendStats = this.backend.stats?.() ?? {};
    const strategy = this.backend.strategyState?.();
    return {
      namespace: this.name,
      backend: this.backend.name,
      eviction: this.options.evictionName,
      hits: this.hits,
      misses: this.misses,
      hitRatio: lookups === 0 ? 0 : this.hits / lookups,
      sets: this.sets,
      invalidations: this.invalidations,
      errors: this.errors,
      unreadableDropped: this.dropped,
      ...backendStats,
      ...(strategy !== undefined && { strategy }),
    };
  }

  private fastMiss(key: string): Promise<undefined> {
    try {
      assertValidKey(key, this.name, this.options.maxKeyLength);
    } catch (error) {
      return Promise.reject(error);
    }
    this.misses++;
    return RESOLVED_UNDEFINED;
  }

  private async slowGet<T>(key: string): Promise<T | undefined> {
    assertValidKey(key, this.name, this.options.maxKeyLength);
    let stored: unknown;
    try {
      stored = await this.backend.get(key);
    } catch (error) {
      throw this.failure('get', error);
    }
    const value = stored === undefined || this.live ? stored : await this.decode(key, stored as string);
    if (value === undefined) this.misses++;
    else this.hits++;
    return value as T | undefined;
  }

  /**
   * `getOrSet` for synchronous methods (`@Cacheable` on a method that does not return a promise):
   * only for namespaces on a synchronous backend that stores live values (memory). No single-flight is
   * needed: nothing can interleave with a synchronous call.
   * @internal
   */
  getOrSetSync<T>(key: string, loader: () => T, ttl: Ttl | undefined, cacheIf?: (value: T) => boolean): T {
    if (this.fast === null) throw new TypeError(`namespace "${this.name}" is on the asynchronous "${this.backend.name}" backend`);
    const ttlMs = this.ttlOf(ttl, 'ttl');
    let cached: unknown;
    try {
      cached = this.fast.get(key);
    } catch (error) {
      throw this.failure('get', error);
    }
    if (cached !== undefined) {
      this.hits++;
      return cached as T;
    }
    assertValidKey(key, this.name, this.options.maxKeyLength);
    this.misses++;
    const value = loader();
    if (value === undefined || (cacheIf && !cacheIf(value))) return value;
    const { stored, size } = this.prepare(value, 'value');
    this.supersede(key);
    try {
      this.backend.set(key, stored, ttlMs, size);
    } catch (error) {
      throw this.failure('set', error);
    }
    this.sets++;
    if (this.events.has('set')) this.events.emit('set', { namespace: this.name, key, ttlMs });
    return value;
  }

  /** Whether hits can be answered synchronously (memory namespaces). */
  get synchronous(): boolean {
    return this.fast !== null;
  }

  /** Early refresh of a fresh entry: one background load per key (single-flight here, try-lock across instances). */
  private refreshEarly<T>(
    key: string, cached: T, loader: () => T | Promise<T>, ttlMs: number, cacheIf?: (value: unknown) => boolean, tags?: readonly string[],
  ): void {
    if (this.inflight.has(key)) return;
    const flight = new Flight();
    const load = refreshLoad(this.loadPlan(key, loader, ttlMs, flight, cacheIf, tags));
    // Callers of getOrSet that miss meanwhile join the refresh: its value, or (when another instance
    // holds the lock and refreshes) the value that was fresh when the refresh started.
    flight.promise = load.then((value) => (value === undefined ? cached : value));
    this.inflight.set(key, flight);
    const settle = (): void => {
      if (this.inflight.get(key) === flight) this.inflight.delete(key);
    };
    flight.promise.then(settle, (error: unknown) => {
      settle();
      this.logger.warn(`Early refresh failed in namespace "${this.name}"; the cached value stays until it expires: ${(error as Error).message}`);
    });
  }

  private load<T>(
    key: string, loader: () => T | Promise<T>, ttlMs: number, flight: Flight,
    cacheIf?: (value: unknown) => boolean, tags?: readonly string[],
  ): Promise<T> {
    if (this.tier === null) return this.loadAndStore(key, loader, ttlMs, flight, cacheIf, tags);
    return resilientLoad<T>(this.loadPlan(key, loader, ttlMs, flight, cacheIf, tags));
  }

  private loadPlan<T>(
    key: string, loader: () => T | Promise<T>, ttlMs: number, flight: Flight,
    cacheIf?: (value: unknown) => boolean, tags?: readonly string[],
  ): ResilientLoadPlan<T> {
    const tier = this.tier!;
    const resilience = this.options.resilience!;
    return {
      namespace: this.name,
      key,
      load: () => this.loadAndStore(key, loader, ttlMs, flight, cacheIf, tags),
      lookup: async () => (await tier.get(key)) as T | undefined,
      stale: () => (resilience.graceMs > 0 ? (tier.stale(key) as T | undefined) : undefined),
      reportStale: (reason) => tier.reportStale(key, reason),
      softTimeoutMs: resilience.softTimeoutMs,
      hardTimeoutMs: resilience.hardTimeoutMs,
      lock: tier.lock && resilience.lock ? { lock: tier.lock, ttlMs: resilience.lock.ttlMs, pollMs: resilience.lock.pollMs } : undefined,
    };
  }

  private async loadAndStore<T>(
    key: string, loader: () => T | Promise<T>, ttlMs: number, flight: Flight,
    cacheIf?: (value: unknown) => boolean, tags?: readonly string[],
  ): Promise<T> {
    const value = await loader();
    if (value === undefined || flight.superseded || (cacheIf && !cacheIf(value))) return value;
    let prepared: { stored: unknown; size: number };
    try {
      prepared = this.prepare(value, 'value');
    } catch (error) {
      if (!(error instanceof ValueTooLargeError)) throw error;
      this.warnDegraded(error);
      return value;
    }
    try {
      await this.backend.set(key, prepared.stored, ttlMs, prepared.size, tags);
      this.sets++;
      if (this.events.has('set')) this.events.emit('set', { namespace: this.name, key, ttlMs });
    } catch (error) {
      const failure = this.failure('set', error);
      if (!(failure instanceof BackendUnavailableError) && !(failure instanceof ValueTooLargeError)) throw failure;
      this.warnDegraded(failure);
    }
    return value;
  }

  /** A write, invalidation or clear makes a running load's result possibly stale: it must not be stored. */
  private supersede(key: string): void {
    const flight = this.inflight.get(key);
    if (flight === undefined) return;
    flight.superseded = true;
    this.inflight.delete(key);
  }

  /** Validates, measures and (for byte-storing backends) serializes a value about to be stored. */
  private prepare(value: unknown, path: string): { stored: unknown; size: number } {
    if (value === undefined) throw new InvalidValueError(this.name, path, 'undefined (store null to cache an absence)');
    let stored: unknown = value;
    let size: number;
    try {
      if (this.live) {
        size = estimateValueSize(value);
      } else {
        stored = this.options.serializer.serialize(value);
        if (typeof stored !== 'string') throw new UnsupportedValueError(path, `serialized by "${this.options.serializer.name}" to a ${typeof stored}, not a string`);
        size = Buffer.byteLength(stored);
      }
    } catch (error) {
      if (error instanceof UnsupportedValueError) throw new InvalidValueError(this.name, error.path.replace(/^value/, path), error.reason);
      throw new InvalidValueError(this.name, path, `not serializable by "${this.options.serializer.name}" (${(error as Error).message})`);
    }
    if (size > this.options.maxValueBytes) throw new ValueTooLargeError(this.name, size, this.options.maxValueBytes, 'maxValueBytes');
    return { stored, size };
  }

  /** The L2 payload of a tiered namespace: what `prepare` makes for a byte backend. */
  private encodeForTier(value: unknown): string {
    let stored: unknown;
    try {
      stored = this.options.serializer.serialize(value);
    } catch (error) {
      if (error instanceof UnsupportedValueError) throw new InvalidValueError(this.name, error.path, error.reason);
      throw new InvalidValueError(this.name, 'value', `not serializable by "${this.options.serializer.name}" (${(error as Error).message})`);
    }
    if (typeof stored !== 'string') throw new InvalidValueError(this.name, 'value', `serialized by "${this.options.serializer.name}" to a ${typeof stored}, not a string`);
    const size = Buffer.byteLength(stored);
    if (size > this.options.maxValueBytes) throw new ValueTooLargeError(this.name, size, this.options.maxValueBytes, 'maxValueBytes');
    return stored;
  }

  /** An entry the serializer cannot read (corrupt, or written by something else) is a miss, and is deleted. */
  private async decode(key: string, payload: string): Promise<unknown> {
    try {
      return this.options.serializer.deserialize(payload);
    } catch (error) {
      this.dropped++;
      // The key stays out of the log: it may belong to a protected namespace.
      this.logger.warn(`Dropped an unreadable entry in namespace "${this.name}" (${this.options.serializer.name}: ${(error as Error).message})`);
      try {
        await this.backend.delete(key);
      } catch {
        // Already counted as unreadable; the entry will expire or be overwritten.
      }
      return undefined;
    }
  }

  /** Checks tags (and that the backend can index them); undefined when there are none. */
  private tagsOf(tags: readonly string[] | undefined): readonly string[] | undefined {
    if (tags === undefined) return undefined;
    assertValidTags(tags, this.name);
    if (tags.length === 0) return undefined;
    if (typeof this.backend.invalidateTag !== 'function') throw new TagsUnsupportedError(this.name, this.backend.name);
    return tags;
  }

  private ttlOf(ttl: Ttl | undefined, where: string): number {
    return ttl === undefined ? this.options.ttlMs : parseTtl(ttl, `namespace "${this.name}" ${where}`);
  }

  /** Typed errors (a memory backend's maxBytes refusal…) pass through; anything else is a backend failure. */
  private failure(operation: string, error: unknown): CacheError {
    if (error instanceof CacheError && !(error instanceof BackendUnavailableError)) return error;
    this.errors++;
    if (error instanceof CacheError) return error;
    return new BackendUnavailableError(this.backend.name, this.name, operation, error);
  }

  private warnDegraded(error: CacheError): void {
    const now = Date.now();
    if (now - this.lastWarnAt < WARN_INTERVAL_MS) return;
    this.lastWarnAt = now;
    this.logger.warn(`getOrSet in namespace "${this.name}" served the loader's value uncached: ${error.message}`);
  }
}
