// Over 350 lines on purpose: every public operation of a namespace, with its entry checks, in the one class apps hold.
import { NamespaceAccess } from '../access/namespace-access';
import type { CacheOperation } from '../access/cache-permission';
import { BackendEntry, CacheBackend } from '../backends/cache-backend.interface';
import { BackendUnavailableError } from '../errors/backend-unavailable.error';
import { CacheError } from '../errors/cache-error';
import { TagsUnsupportedError } from '../errors/tags-unsupported.error';
import { InvalidKeyError } from '../errors/invalid-key.error';
import { InvalidArgumentError } from '../errors/invalid-argument.error';
import { CacheEvents } from '../events/cache-events';
import { NamespaceKeys, StoredKey } from '../keys/namespace-keys';
import { KeyScope } from '../keys/scoped-key';
import { OP } from '../tracing/cache-operations';
import { tierHitRatios } from '../metrics/tier-hit-ratios';
import { FOUND_OR_NOT, HIT_OR_MISS, OperationObserver } from '../observability/operation-observer';
import { ResolvedNamespaceOptions } from '../options/resolved-namespace-options';
import { NamespaceStore } from '../store/namespace-store';
import { singleTierStore } from '../store/single-tier-store';
import { parseTtl, Ttl } from '../ttl/parse-ttl';
import { CacheEntryInput, GetOrSetOptions, SetOptions } from './operation-options';
import { MemoryPath } from './memory-path';
import { NamespaceStats } from '../observability/namespace-stats';
import { NamespaceCounters, PathContext } from './path-context';
import { pickReadPath } from './pick-read-path';
import { ReadPath } from './read-path';
import { GetSetHandler } from './get-set-handler';
import { SingleFlight } from './single-flight';

export type { SetOptions, GetOrSetOptions, CacheEntryInput } from './operation-options';

/**
 * The cache of one namespace: what `@InjectCache('users')` injects and what `CacheService` delegates
 * to. Every operation runs the same short pipeline:
 *
 *   observer hook → access (`NamespaceAccess`: permission, key rules, owner scope) → TTL and tags →
 *   the store (`NamespaceStore`: the codec, then one backend or two tiers)
 *
 * and counts and emits what happened. How it reads (memory, an asynchronous store, two tiers) is a
 * `ReadPath` picked once at construction; `getOrSet` loads run one per key (`SingleFlight`). Backend
 * failures become `BackendUnavailableError`. `V` types the values of the namespace.
 *
 * `get` resolves `undefined` on a miss; a stored `null` comes back as `null`. Storing `undefined` is
 * rejected (store `null` to cache an absence).
 */
export class CacheNamespace<V = unknown> {
  readonly name: string;
  private readonly store: NamespaceStore;
  private readonly reads: ReadPath;
  /** The memory path, for `getOrSetSync`; null on asynchronous stores. */
  private readonly sync: MemoryPath | null;
  /** `getOrSet` past its entry checks: the lookup, one load per key, the store of what it loaded. */
  private readonly getSet: GetSetHandler;
  private readonly flights: SingleFlight;
  private readonly counters = new NamespaceCounters();

  constructor(
    private readonly options: ResolvedNamespaceOptions,
    /** A backend (wrapped here with the namespace's codec), or a store built with it (`TwoTierStore`). */
    backend: CacheBackend | NamespaceStore,
    private readonly events: CacheEvents = new CacheEvents(),
    /** Times, traces and logs the public operations (see `OperationObserver`); by default none. @internal */
    readonly observer: OperationObserver = OperationObserver.disabled(options.name, backend.name),
    /** RBAC, key canonicalisation and scoping: the first check of every public operation (after the observer, so that denials are traced). */
    private readonly access: NamespaceAccess = new NamespaceAccess(new NamespaceKeys(options.name, options.maxKeyLength, options.keyCharset, options.scope)),
  ) {
    this.name = options.name;
    const store = backend instanceof NamespaceStore ? backend : singleTierStore(options, backend, events);
    this.store = store;
    const context: PathContext = { name: this.name, store, access, counters: this.counters, observer, fail: (operation, error) => this.failure(operation, error) };
    this.reads = pickReadPath(store, context, options.resilience);
    this.sync = this.reads instanceof MemoryPath ? this.reads : null;
    this.getSet = new GetSetHandler(this.reads, context, this.events);
    this.flights = this.getSet.flights;
  }

  get<T extends V = V>(key: string): Promise<T | undefined> {
    if (this.observer.due(OP.get)) return this.observer.observe(OP.get, () => this.get<T>(key), HIT_OR_MISS);
    return this.reads.get(key) as Promise<T | undefined>;
  }

  async set<T extends V = V>(key: string, value: T, options?: SetOptions): Promise<void> {
    if (this.observer.due(OP.set)) return this.observer.observe(OP.set, () => this.set<T>(key, value, options));
    key = this.access.key('set', key);
    const ttlMs = this.ttlOf(options?.ttl, 'set() options.ttl');
    const tags = this.tagsOf('set', options?.tags);
    const { stored, size } = this.store.prepare(value, 'value', key);
    this.flights.supersede(key);
    try {
      await this.store.set(key, stored, ttlMs, size, tags);
    } catch (error) {
      throw this.failure('set', error);
    }
    this.counters.sets++;
    if (this.events.has('set')) this.events.emit('set', { namespace: this.name, key, ttlMs });
  }

  async has(key: string): Promise<boolean> {
    if (this.observer.due(OP.has)) return this.observer.observe(OP.has, () => this.has(key), FOUND_OR_NOT);
    key = this.access.key('has', key);
    try {
      return await this.store.has(key);
    } catch (error) {
      throw this.failure('has', error);
    }
  }

  /** Removes the entry; resolves `true` when there was one. */
  async invalidate(key: string): Promise<boolean> {
    if (this.observer.due(OP.invalidate)) return this.observer.observe(OP.invalidate, () => this.invalidate(key));
    key = this.access.key('invalidate', key);
    this.flights.supersede(key);
    let removed: boolean;
    try {
      removed = await this.store.delete(key);
    } catch (error) {
      throw this.failure('invalidate', error);
    }
    this.counters.invalidations++;
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
  getOrSet<T extends V = V>(key: string, loader: () => T | Promise<T>, options?: GetOrSetOptions<T>): Promise<T> {
    if (this.observer.due(OP.getOrSet)) return this.observer.observeGetOrSet(loader, (observed) => this.getOrSet<T>(key, observed, options));
    let stored: StoredKey;
    let ttlMs: number;
    let tags: readonly string[] | undefined;
    try {
      stored = this.access.key('getOrSet', key);
      ttlMs = this.ttlOf(options?.ttl, 'getOrSet() options.ttl');
      if (typeof loader !== 'function') throw new InvalidArgumentError(`getOrSet() in namespace "${this.name}": loader must be a function`);
      tags = this.tagsOf('getOrSet', options?.tags);
    } catch (error) {
      return Promise.reject(error);
    }
    // Not async itself: the handler's promise is the caller's, with no extra hop.
    return this.getSet.handle(stored, loader, ttlMs, options?.cacheIf as ((value: unknown) => boolean) | undefined, tags);
  }

  /** Values in the order of `keys`, `undefined` for misses. All keys are checked before any is read. */
  async mget<T extends V = V>(keys: readonly string[]): Promise<(T | undefined)[]> {
    if (this.observer.due(OP.mget)) return this.observer.observe(OP.mget, () => this.mget<T>(keys));
    if (!Array.isArray(keys)) {
      this.access.check('mget'); // an unauthorised caller gets the 403 first
      throw new InvalidArgumentError(`mget() in namespace "${this.name}": keys must be an array`);
    }
    keys = this.access.keys('mget', keys);
    let found: unknown[];
    try {
      found = await this.store.mget(keys);
    } catch (error) {
      throw this.failure('mget', error);
    }
    const values = new Array<T | undefined>(keys.length);
    for (let i = 0; i < keys.length; i++) {
      if (found[i] === undefined) this.counters.misses++;
      else this.counters.hits++;
      values[i] = found[i] as T | undefined;
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
      throw new InvalidArgumentError(`mset() in namespace "${this.name}": entries must be an array of { key, value, ttl? }`);
    }
    const prepared: BackendEntry[] = entries.map((entry, i) => {
      if (entry === null || typeof entry !== 'object') {
        this.access.check('mset');
        throw new InvalidArgumentError(`mset() in namespace "${this.name}": entries[${i}] must be { key, value, ttl? }`);
      }
      const key = this.access.key('mset', entry.key);
      const ttlMs = this.ttlOf(entry.ttl, `mset() entries[${i}].ttl`);
      const tags = this.tagsOf('mset', entry.tags);
      const { stored, size } = this.store.prepare(entry.value, `entries[${i}].value`, key);
      return { key, value: stored, ttlMs, sizeBytes: size, tags };
    });
    for (const entry of prepared) this.flights.supersede(entry.key);
    try {
      await this.store.mset(prepared);
    } catch (error) {
      throw this.failure('mset', error);
    }
    this.counters.sets += prepared.length;
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
    this.flights.supersedeAll();
    let removed: number;
    try {
      removed = await this.store.invalidateTag(checked);
    } catch (error) {
      throw this.failure('invalidateTag', error);
    }
    this.counters.invalidations += removed;
    this.events.emit('tagInvalidated', { namespace: this.name, tag: checked, removed });
    return removed;
  }

  /** Removes every entry of this namespace; resolves how many were removed. */
  async clear(): Promise<number> {
    if (this.observer.due(OP.clear)) return this.observer.observe(OP.clear, () => this.clear());
    // Namespace-wide even when scoped: every owner's entries go (it needs admin; never anonymous).
    this.access.check('clear');
    this.flights.supersedeAll();
    try {
      const removed = await this.store.clear();
      this.counters.invalidations += removed;
      this.events.emit('namespaceCleared', { namespace: this.name, removed });
      return removed;
    } catch (error) {
      throw this.failure('clear', error);
    }
  }

  stats(): NamespaceStats {
    const { hits, misses, sets, invalidations, errors, invalidKeyBypasses } = this.counters;
    const lookups = hits + misses;
    const backendStats = this.store.stats();
    const strategy = this.store.strategyState();
    const codec = this.store.codec;
    return {
      namespace: this.name,
      backend: this.store.name,
      eviction: this.options.evictionName,
      hits, misses, hitRatio: lookups === 0 ? 0 : hits / lookups, sets, invalidations, errors,
      unreadableDropped: codec.dropped,
      ...(codec.sealed && { tamperDetected: codec.tampered }),
      coalesced: this.flights.coalesced,
      invalidKeyBypasses,
      ...backendStats,
      ...tierHitRatios(backendStats),
      ...(strategy !== undefined && { strategy }),
    };
  }

  /**
   * `getOrSet` for synchronous methods (`@Cacheable` on a method that does not return a promise):
   * only for namespaces on a synchronous backend that stores live values (memory). No single-flight is
   * needed: nothing can interleave with a synchronous call.
   * @internal
   */
  getOrSetSync<T>(key: string, loader: () => T, ttl: Ttl | undefined, cacheIf?: (value: T) => boolean): T {
    const sync = this.sync;
    if (sync === null) throw new InvalidArgumentError(`namespace "${this.name}" is on the asynchronous "${this.store.name}" backend`);
    if (this.observer.due(OP.getOrSet)) return this.observer.observeGetOrSetSync(loader, (observed) => this.getOrSetSync<T>(key, observed, ttl, cacheIf));
    const stored = this.access.key('getOrSet', key);
    const ttlMs = this.ttlOf(ttl, 'ttl');
    const cached = sync.peek(stored);
    if (cached !== undefined) {
      this.counters.hits++;
      return cached as T;
    }
    this.counters.misses++;
    const value = loader();
    if (value === undefined || (cacheIf && !cacheIf(value))) return value;
    const prepared = this.store.prepare(value, 'value', stored);
    this.flights.supersede(stored);
    try {
      this.store.set(stored, prepared.stored, ttlMs, prepared.size);
    } catch (error) {
      throw this.failure('set', error);
    }
    this.counters.sets++;
    if (this.events.has('set')) this.events.emit('set', { namespace: this.name, key: stored, ttlMs });
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
  bypassesInvalidKey(operation: CacheOperation, keys: readonly string[] | undefined, tags: readonly string[] | undefined): boolean {
    // No keys: the call's arguments could not make one (a decorator's KeyArgumentError).
    if (keys !== undefined && !this.access.rules.breaks(keys, tags)) return false;
    this.access.check(operation);
    this.counters.invalidKeyBypasses++;
    return true;
  }

  /** Whose entries the namespace holds: shared (`'none'`), or one set per user or tenant. */
  get scope(): KeyScope {
    return this.options.scope;
  }

  /** The TTL of entries written without one (ms, 0 = no expiry). */
  get defaultTtlMs(): number {
    return this.options.ttlMs;
  }

  /** Whether hits can be answered synchronously (memory namespaces). */
  get synchronous(): boolean {
    return this.sync !== null;
  }

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
    if (!this.store.tags) throw new TagsUnsupportedError(this.name, this.store.name);
    return stored;
  }

  private ttlOf(ttl: Ttl | undefined, where: string): number {
    return ttl === undefined ? this.options.ttlMs : parseTtl(ttl, `namespace "${this.name}" ${where}`);
  }

  /** Typed errors (a memory backend's maxBytes refusal…) pass through; anything else is a backend failure. */
  private failure(operation: string, error: unknown): CacheError {
    if (error instanceof CacheError && !(error instanceof BackendUnavailableError)) return error;
    this.counters.errors++;
    this.observer.failed(operation, error);
    this.access.failed(operation, this.store.name);
    if (error instanceof CacheError) return error;
    return new BackendUnavailableError(this.store.name, this.name, operation, error);
  }

}
