import { Logger } from '@nestjs/common';
import { BackendEntry, CacheBackend, OversizedPayload } from '../backends/cache-backend.interface';
import { isTieredBackend, TieredBackend } from '../tiers/tiered-backend';
import { BackendUnavailableError } from '../errors/backend-unavailable.error';
import { CacheError } from '../errors/cache-error';
import { InvalidValueError } from '../errors/invalid-value.error';
import { ValueTooLargeError } from '../errors/value-too-large.error';
import { TagsUnsupportedError } from '../errors/tags-unsupported.error';
import { InvalidKeyError } from '../errors/invalid-key.error';
import { MAX_TAG_LENGTH } from '../keys/assert-valid-key';
import { canonicalKey } from '../keys/canonical-key';
import { ResolvedNamespaceOptions } from '../options/resolved-namespace-options';
import { NamespaceCipher } from '../security/namespace-cipher';
import { createNamespaceCipher, dropEntry, readSealed } from '../security/create-namespace-cipher';
import { estimateValueSize } from '../serialization/estimate-value-size';
import { UnsupportedValueError } from '../serialization/unsupported-value.error';
import { parseTtl, Ttl } from '../ttl/parse-ttl';
import { CacheEvents } from '../events/cache-events';
import { refreshLoad, resilientLoad, ResilientLoadPlan } from '../tiers/resilient-load';
import { logLine } from '../logging/log-line';
import { OP } from '../metrics/cache-operations';
import { tierHitRatios } from '../metrics/tier-hit-ratios';
import { FOUND_OR_NOT, HIT_OR_MISS, OperationObserver } from '../observability/operation-observer';
import { NamespaceStats } from './namespace-stats';
import { maxStoredBytes } from '../codec/payload-limits';
import { overByteLimit } from '../serialization/over-byte-limit';
import { describeError } from '../logging/error-fields';
import { NamespaceAccess, StoredKey } from '../access/namespace-access';
import type { CacheOperation } from '../access/cache-permission';

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

/**
 * What a payload is sealed for: the key, and for a tier's L2 payload also its envelope (logical
 * expiry times), so that those times cannot be forged either. U+001E cannot occur in a key.
 */
function sealedContext(key: string, envelope: string): string {
  return envelope === '' ? key : `${key}\u001e${envelope}`;
}

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
  /** `fast` and `tier` when the namespace is open (no RBAC, no scope): their hits skip the access check. */
  private readonly openFast: FastBackend | null;
  private readonly openTier: TieredBackend | null;
  /** Set for namespaces with an `l1`: hits come from its synchronous L1 lookup. */
  private readonly tier: TieredBackend | null;
  private readonly live: boolean;
  /** Encryption on, for byte backends and the L2 of tiers: seals what is serialized, opens what `decode` reads. */
  private readonly cipher: NamespaceCipher | null;
  /** The largest payload body read or written (serialized text, or its sealed form): see `payload-limits.ts`. */
  private readonly maxStored: number;
  private readonly inflight = new Map<string, Flight>();
  private readonly logger = new Logger('CacheNamespace');
  private lastWarnAt = 0;
  private hits = 0;
  private misses = 0;
  private sets = 0;
  private invalidations = 0;
  private errors = 0;
  private dropped = 0;
  private tampered = 0;
  private coalesced = 0;
  private invalidKeyBypasses = 0;

  constructor(
    private readonly options: ResolvedNamespaceOptions,
    private readonly backend: CacheBackend,
    private readonly events: CacheEvents = new CacheEvents(),
    /** Times, traces and logs the public operations (see `OperationObserver`); by default none. @internal */
    readonly observer: OperationObserver = OperationObserver.disabled(options.name, backend.name),
    /** RBAC, key canonicalisation and scoping: the first check of every public operation (after the observer, so that denials are traced). */
    private readonly access: NamespaceAccess = new NamespaceAccess(options.name, options.maxKeyLength, options.keyCharset, options.scope),
  ) {
    this.name = options.name;
    this.live = backend.storesLiveValues;
    this.fast = backend.synchronous && backend.storesLiveValues ? (backend as FastBackend) : null;
    this.tier = isTieredBackend(backend) ? backend : null;
    this.openFast = access.open ? this.fast : null;
    this.openTier = access.open ? this.tier : null;
    // Tiered namespaces hold live values in L1 but bytes in L2: those bytes are sealed too.
    this.cipher = this.live && this.tier === null ? null : createNamespaceCipher(options, this.events);
    this.maxStored = maxStoredBytes(options);
    // L2 bytes go through this namespace's own pipeline, exactly as for a byte backend.
    this.tier?.attachCodec({
      encode: (key, value, envelope) => this.encodeForTier(key, value, envelope),
      decode: (key, payload, envelope) => this.decode(key, payload, envelope),
      traced: this.observer.traced,
    });
  }

  get<T extends V = V>(key: string): Promise<T | undefined> {
    if (this.observer.due(OP.get)) return this.observer.observe(OP.get, () => this.get<T>(key), HIT_OR_MISS);
    const fast = this.openFast;
    if (fast !== null) {
      // Hot path: a synchronous lookup and an already-resolved promise; keys are validated (and
      // canonicalised) on a miss only, because only valid canonical keys are ever stored.
      let value: unknown;
      try {
        value = fast.get(key);
      } catch (error) {
        return Promise.reject(this.failure('get', error));
      }
      if (value !== undefined) {
        this.hits++;
        return Promise.resolve(value as T);
      }
      return this.fastMiss(key);
    }
    const tier = this.openTier;
    if (tier !== null) {
      // Same for an L1 hit of a tiered namespace; a miss is canonicalised and goes on to L2.
      const value = tier.local(key);
      if (value !== undefined) {
        this.hits++;
        this.observer.markTier('l1');
        return Promise.resolve(value as T);
      }
    }
    return this.guardedGet<T>(key);
  }

  async set<T extends V = V>(key: string, value: T, options?: SetOptions): Promise<void> {
    if (this.observer.due(OP.set)) return this.observer.observe(OP.set, () => this.set<T>(key, value, options));
    key = this.access.key('set', key);
    const ttlMs = this.ttlOf(options?.ttl, 'set() options.ttl');
    const tags = this.tagsOf('set', options?.tags);
    const { stored, size } = this.prepare(value, 'value', key);
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
    if (this.observer.due(OP.has)) return this.observer.observe(OP.has, () => this.has(key), FOUND_OR_NOT);
    key = this.access.key('has', key);
    try {
      return await this.backend.has(key);
    } catch (error) {
      throw this.failure('has', error);
    }
  }

  /** Removes the entry; resolves `true` when there was one. */
  async invalidate(key: string): Promise<boolean> {
    if (this.observer.due(OP.invalidate)) return this.observer.observe(OP.invalidate, () => this.invalidate(key));
    key = this.access.key('invalidate', key);
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
    if (this.observer.due(OP.getOrSet)) return this.observer.observeGetOrSet(loader, (observed) => this.getOrSet<T>(key, observed, options));
    const stored = this.access.key('getOrSet', key);
    const ttlMs = this.ttlOf(options?.ttl, 'getOrSet() options.ttl');
    if (typeof loader !== 'function') throw new TypeError(`getOrSet() in namespace "${this.name}": loader must be a function`);
    const cacheIf = options?.cacheIf as ((value: unknown) => boolean) | undefined;
    const tags = this.tagsOf('getOrSet', options?.tags);
    let cached: T | undefined;
    try {
      cached = await this.lookup<T>(stored);
    } catch (error) {
      if (!(error instanceof BackendUnavailableError)) throw error;
      this.warnDegraded(error);
    }
    if (cached !== undefined) {
      if (this.tier !== null && this.options.resilience!.earlyRefresh > 0 && this.tier.refreshDue(stored)) {
        this.refreshEarly(stored, cached, loader, ttlMs, cacheIf, tags);
      }
      return cached;
    }
    const running = this.inflight.get(stored);
    if (running !== undefined) {
      this.coalesced++;
      return running.promise as Promise<T>;
    }
    const flight = new Flight();
    const load = this.load(stored, loader, ttlMs, flight, cacheIf, tags);
    flight.promise = load;
    this.inflight.set(stored, flight);
    const settle = (): void => {
      if (this.inflight.get(stored) === flight) this.inflight.delete(stored);
    };
    load.then(settle, settle);
    return load;
  }

  /** Values in the order of `keys`, `undefined` for misses. All keys are checked before any is read. */
  async mget<T extends V = V>(keys: readonly string[]): Promise<(T | undefined)[]> {
    if (this.observer.due(OP.mget)) return this.observer.observe(OP.mget, () => this.mget<T>(keys));
    if (!Array.isArray(keys)) {
      this.access.check('mget'); // an unauthorised caller gets the 403 first
      throw new TypeError(`mget() in namespace "${this.name}": keys must be an array`);
    }
    keys = this.access.keys('mget', keys);
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
    if (this.observer.due(OP.mset)) return this.observer.observe(OP.mset, () => this.mset<T>(entries));
    if (!Array.isArray(entries)) {
      this.access.check('mset'); // an unauthorised caller gets the 403 first
      throw new TypeError(`mset() in namespace "${this.name}": entries must be an array of { key, value, ttl? }`);
    }
    const prepared: BackendEntry[] = entries.map((entry, i) => {
      if (entry === null || typeof entry !== 'object') {
        this.access.check('mset');
        throw new TypeError(`mset() in namespace "${this.name}": entries[${i}] must be { key, value, ttl? }`);
      }
      const key = this.access.key('mset', entry.key);
      const ttlMs = this.ttlOf(entry.ttl, `mset() entries[${i}].ttl`);
      const tags = this.tagsOf('mset', entry.tags);
      const { stored, size } = this.prepare(entry.value, `entries[${i}].value`, key);
      return { key, value: stored, ttlMs, sizeBytes: size, tags };
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
    if (this.observer.due(OP.invalidateTag)) return this.observer.observe(OP.invalidateTag, () => this.invalidateTag(tag));
    // Scoped namespaces: the caller's own tag (the owner prefix), so only the caller's entries go.
    const [checked] = this.tagsOf('invalidateTag', [tag])!;
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
    if (this.observer.due(OP.clear)) return this.observer.observe(OP.clear, () => this.clear());
    // Namespace-wide even when scoped: every owner's entries go (it needs admin; never anonymous).
    this.access.check('clear');
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
      ...(this.cipher !== null && { tamperDetected: this.tampered }),
      coalesced: this.coalesced,
      invalidKeyBypasses: this.invalidKeyBypasses,
      ...backendStats,
      ...tierHitRatios(backendStats),
      ...(strategy !== undefined && { strategy }),
    };
  }

  private fastMiss<T>(key: string): Promise<T | undefined> {
    let canonical: StoredKey;
    try {
      canonical = this.access.key('get', key);
    } catch (error) {
      return Promise.reject(error);
    }
    // Another spelling of a stored key (e.g. NFD for NFC): look the stored one up.
    return canonical === key ? this.missed() : this.lookup<T>(canonical);
  }

  private missed(): Promise<undefined> {
    this.misses++;
    return RESOLVED_UNDEFINED;
  }

  /** `get` past the access check (non-open namespaces); not async, so that a memory hit stays one resolved promise. */
  private guardedGet<T>(key: string): Promise<T | undefined> {
    let stored: StoredKey;
    try {
      stored = this.access.key('get', key);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.lookup<T>(stored);
  }

  /** A lookup of a stored (checked, canonical, scoped) key: synchronous on memory namespaces and L1 hits. */
  private lookup<T>(key: StoredKey): Promise<T | undefined> {
    if (this.fast === null) {
      const local = this.tier?.local(key);
      if (local !== undefined) {
        this.hits++;
        this.observer.markTier('l1');
        return Promise.resolve(local as T);
      }
      return this.slowGet<T>(key);
    }
    let value: unknown;
    try {
      value = this.fast.get(key);
    } catch (error) {
      return Promise.reject(this.failure('get', error));
    }
    if (value === undefined) return this.missed();
    this.hits++;
    return Promise.resolve(value as T);
  }

  private async slowGet<T>(key: StoredKey): Promise<T | undefined> {
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
    if (this.observer.due(OP.getOrSet)) return this.observer.observeGetOrSetSync(loader, (observed) => this.getOrSetSync<T>(key, observed, ttl, cacheIf));
    key = this.access.key('getOrSet', key);
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
    this.misses++;
    const value = loader();
    if (value === undefined || (cacheIf && !cacheIf(value))) return value;
    const { stored, size } = this.prepare(value, 'value', key);
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

  /**
   * Checks `operation` as the entry of the operation itself would (permission and, in a scoped
   * namespace, the principal rules), without a key: the decorators' check before the method runs.
   * @internal
   */
  checkAccess(operation: CacheOperation): void {
    this.access.check(operation);
  }

  /**
   * For the cache decorators, after `operation` failed with `InvalidKeyError`: true when one of
   * `keys` or `tags` breaks this namespace's key rules, so that the decorator goes on without the
   * cache (counted in `stats().invalidKeyBypasses`); false when they are all valid (the error came
   * from elsewhere, e.g. the method itself). The caller's access to `operation` is checked first, so
   * that a key problem never stands in for a denial.
   * @internal
   */
  bypassesInvalidKey(operation: CacheOperation, keys: readonly string[], tags: readonly string[] | undefined): boolean {
    const { maxKeyLength, keyCharset } = this.options;
    try {
      for (const key of keys) canonicalKey(key, this.name, maxKeyLength, keyCharset);
      for (const tag of tags ?? []) canonicalKey(tag, this.name, MAX_TAG_LENGTH, keyCharset, 'tag');
      return false;
    } catch (error) {
      if (!(error instanceof InvalidKeyError)) throw error;
    }
    this.access.check(operation);
    this.invalidKeyBypasses++;
    return true;
  }

  /** The TTL of entries written without one (ms, 0 = no expiry). */
  get defaultTtlMs(): number {
    return this.options.ttlMs;
  }

  /** Whether hits can be answered synchronously (memory namespaces). */
  get synchronous(): boolean {
    return this.fast !== null;
  }

  /** Early refresh of a fresh entry: one background load per key (single-flight here, try-lock across instances). */
  private refreshEarly<T>(
    key: StoredKey, cached: T, loader: () => T | Promise<T>, ttlMs: number, cacheIf?: (value: unknown) => boolean, tags?: readonly string[],
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
      this.logger.warn(`Early refresh failed in namespace "${this.name}"; the cached value stays until it expires: ${describeError(error)}`);
    });
  }

  private load<T>(
    key: StoredKey, loader: () => T | Promise<T>, ttlMs: number, flight: Flight,
    cacheIf?: (value: unknown) => boolean, tags?: readonly string[],
  ): Promise<T> {
    if (this.tier === null) return this.loadAndStore(key, loader, ttlMs, flight, cacheIf, tags);
    return resilientLoad<T>(this.loadPlan(key, loader, ttlMs, flight, cacheIf, tags));
  }

  private loadPlan<T>(
    key: StoredKey, loader: () => T | Promise<T>, ttlMs: number, flight: Flight,
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
    key: StoredKey, loader: () => T | Promise<T>, ttlMs: number, flight: Flight,
    cacheIf?: (value: unknown) => boolean, tags?: readonly string[],
  ): Promise<T> {
    const value = await loader();
    if (value === undefined || flight.superseded || (cacheIf && !cacheIf(value))) return value;
    let prepared: { stored: unknown; size: number };
    try {
      prepared = this.prepare(value, 'value', key);
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

  /** Validates, measures and (for byte-storing backends) serializes, then seals, a value about to be stored under `key`. */
  private prepare(value: unknown, path: string, key: string): { stored: unknown; size: number } {
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
    // Live values (memory, the L1 of tiers) stay in the process; tiers seal their L2 bytes in encodeForTier.
    if (this.cipher !== null && !this.live) {
      stored = this.cipher.seal(stored as string, key);
      size = (stored as string).length;
      this.checkSealedSize(size);
    }
    return { stored, size };
  }

  /** The L2 payload of a tiered namespace under `key`: what `prepare` makes for a byte backend (serialized, then sealed). */
  private encodeForTier(key: string, value: unknown, envelope: string): string {
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
    if (this.cipher === null) return stored;
    const sealed = this.cipher.seal(stored, sealedContext(key, envelope));
    this.checkSealedSize(sealed.length);
    return sealed;
  }

  /** A provider whose payloads are larger than `maxStoredBytes` allows would write entries that read as oversized: refuse them here. */
  private checkSealedSize(size: number): void {
    if (size > this.maxStored) throw new ValueTooLargeError(this.name, size, this.maxStored, 'maxValueBytes');
  }

  /**
   * An entry over the size limit (answered by a bounded backend as an `OversizedPayload`, or longer
   * than `maxStoredBytes`, checked here for any backend before anything else), one that does not
   * authenticate (encryption on: `readSealed` drops it as a tamper), that the serializer cannot read
   * (corrupt, written by something else, or with own `__proto__`/`constructor`/`prototype`
   * properties), or whose value fails the namespace's `valueSchema`, is a miss, and is deleted only
   * if it still holds what was read.
   */
  private async decode(key: string, stored: unknown, envelope = ''): Promise<unknown> {
    let value: unknown;
    let problem: string | undefined;
    if (typeof stored !== 'string') {
      problem = stored instanceof OversizedPayload ? 'oversized' : 'not-a-string';
    } else if (overByteLimit(stored, this.maxStored)) {
      problem = 'oversized';
    } else {
      let payload = stored;
      if (this.cipher !== null) {
        const text = readSealed(this.cipher, this.backend, key, payload, this.onTamper, sealedContext(key, envelope));
        const opened = typeof text === 'string' ? text : await text;
        if (opened === undefined) return undefined;
        payload = opened;
      }
      if (this.cipher !== null && overByteLimit(payload, this.options.maxValueBytes)) {
        problem = 'oversized';
      } else {
        try {
          value = this.options.serializer.deserialize(payload);
          // Which constraint failed stays out of the log too (its message may name the value's content).
          if (this.options.valueSchema?.(value) !== undefined) problem = 'valueSchema';
        } catch (error) {
          // The error's name only: a parser's message may quote the payload.
          problem = (error as Error).name;
        }
      }
    }
    if (problem === undefined) return value;
    this.dropped++;
    // The key stays out of the log: it may belong to a protected namespace.
    this.logger.warn(logLine('cache.unreadable_dropped', { namespace: this.name, backend: this.backend.name, serializer: this.options.serializer.name, reason: problem }));
    try {
      await dropEntry(this.backend, key, stored as string);
    } catch {
      // Already counted as unreadable; the entry will expire or be overwritten.
    }
    return undefined;
  }

  /**
   * A sealed entry that failed authentication was deleted by `readSealed`: count it and tell the
   * listeners (the module's observability logs it at warn, at most once per interval, without the key).
   */
  private readonly onTamper = (key: string, reason: string): void => {
    this.tampered++;
    this.events.emit('tamper', { namespace: this.name, key, reason });
  };

  /**
   * The stored form of tags (checked for `operation`, canonical, owner-scoped like keys), after a
   * check that the backend can index them; undefined when there are none.
   */
  private tagsOf(operation: CacheOperation, tags: readonly string[] | undefined): readonly string[] | undefined {
    if (tags === undefined) return undefined;
    if (!Array.isArray(tags)) {
      this.access.check(operation);
      throw new InvalidKeyError(this.name, 'tags must be an array of strings', 'tag');
    }
    if (tags.length === 0) return undefined;
    const stored = this.access.tags(operation, tags);
    if (typeof this.backend.invalidateTag !== 'function') throw new TagsUnsupportedError(this.name, this.backend.name);
    return stored;
  }

  private ttlOf(ttl: Ttl | undefined, where: string): number {
    return ttl === undefined ? this.options.ttlMs : parseTtl(ttl, `namespace "${this.name}" ${where}`);
  }

  /** Typed errors (a memory backend's maxBytes refusal…) pass through; anything else is a backend failure. */
  private failure(operation: string, error: unknown): CacheError {
    if (error instanceof CacheError && !(error instanceof BackendUnavailableError)) return error;
    this.errors++;
    this.observer.failed(operation, error);
    this.access.failed(operation, this.backend.name);
    if (error instanceof CacheError) return error;
    return new BackendUnavailableError(this.backend.name, this.name, operation, error);
  }

  private warnDegraded(error: CacheError): void {
    const now = Date.now();
    if (now - this.lastWarnAt < WARN_INTERVAL_MS) return;
    this.lastWarnAt = now;
    this.logger.warn(logLine('cache.fallback', { namespace: this.name, backend: this.backend.name, operation: 'getOrSet', served: 'loader-uncached', reason: error.code }));
  }
}
