import { EventEmitter } from 'node:events';
import { CacheNamespace } from '../namespace/cache-namespace';
import { InvalidArgumentError } from '../errors/invalid-argument.error';

/** What Keyv hands a store's `setMany` (Keyv 6 through its bridge: the TTL in milliseconds). */
export interface KeyvStoreEntry {
  key: string;
  value: unknown;
  ttl?: number;
}

/** Tag carried by every entry a Keyv namespace writes, so that Keyv's `clear()` removes only its own. */
const KEYV_NAMESPACE_TAG = 'keyv-namespace:';

/**
 * A Keyv storage adapter (Keyv 5 and 6) over one cache namespace, so that anything built on Keyv — cache-manager 7,
 * `@nestjs/cache-manager` (`CACHE_MANAGER`, its `CacheInterceptor`) — runs on this library's backends
 * unchanged:
 *
 * ```ts
 * new Keyv({ store: new CachekitKeyvStore(cache.namespace('http')) })
 * ```
 *
 * Keyv prefixes keys with its own namespace (`keyv:` by default) and keeps its own expiry inside the
 * value; the adapter stores what it is given under the cache namespace's rules (key checks, size
 * limits, serialization and eviction). A Keyv TTL becomes the entry's TTL; without one the cache
 * namespace's default TTL applies. Each entry is tagged with Keyv's namespace, so `keyv.clear()`
 * removes that Keyv namespace's entries only (one tag invalidation; without a Keyv namespace it
 * clears the whole cache namespace). The adapter does not iterate (`keyv.iterator` is unavailable),
 * and it does not own connections: `disconnect()` leaves them to the module's shutdown.
 *
 * Written structurally against Keyv's `KeyvStoreAdapter`, so the library does not depend on Keyv.
 * Keyv 6 recognizes a full storage adapter by its methods being `async` functions, and hands one
 * that takes relative TTLs (as this one does, for Keyv 5) to its bridge adapter, which converts its
 * absolute expiry back to a TTL and, because this adapter has a `namespace`, leaves namespacing
 * (keys and `clear()`) to it. Hence every method below is `async`, and under Keyv 6 the adapter
 * prefixes keys with Keyv's namespace itself (`namespace:key`, the shape Keyv 5 gives them).
 */
export class CachekitKeyvStore extends EventEmitter {
  /** Set by Keyv to its own namespace. */
  namespace?: string;
  readonly opts: { namespace?: string; dialect: string } = { dialect: 'nest-cachekit' };
  /** True once Keyv 6 took this store: Keyv 6 leaves key namespacing to its stores, Keyv 5 does it itself. */
  private prefixesKeys = false;

  constructor(private readonly cache: CacheNamespace) {
    super();
    if (!(cache instanceof CacheNamespace)) {
      throw new InvalidArgumentError('CachekitKeyvStore needs a cache namespace: new CachekitKeyvStore(cacheService.namespace(name))');
    }
  }

  /**
   * Read by Keyv 6 when it takes a store (Keyv 5 never reads it). No `expires` capability: Keyv 6
   * then keeps handing this adapter relative TTLs, through its bridge.
   */
  get capabilities(): undefined {
    this.prefixesKeys = true;
    return undefined;
  }

  async get<T>(key: string): Promise<T | undefined> {
    return (await this.cache.get(this.keyOf(key))) as T | undefined;
  }

  async getMany<T>(keys: string[]): Promise<(T | undefined)[]> {
    return (await this.cache.mget(keys.map((key) => this.keyOf(key)))) as (T | undefined)[];
  }

  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    await this.cache.set(this.keyOf(key), value, { ttl: ttlOf(ttl), tags: this.tags() });
    return true;
  }

  /**
   * All or nothing (the namespace's `mset`). Resolves one `true` per entry, which Keyv's `setMany`
   * hands back to its caller; typed loosely because Keyv's adapter type declares `Promise<void>`.
   */
  async setMany(entries: KeyvStoreEntry[]): Promise<any> {
    const tags = this.tags();
    await this.cache.mset(entries.map((e) => ({ key: this.keyOf(e.key), value: e.value, ttl: ttlOf(e.ttl), tags })));
    return entries.map(() => true);
  }

  async has(key: string): Promise<boolean> {
    return this.cache.has(this.keyOf(key));
  }

  async hasMany(keys: string[]): Promise<boolean[]> {
    return Promise.all(keys.map((key) => this.cache.has(this.keyOf(key))));
  }

  async delete(key: string): Promise<boolean> {
    return this.cache.invalidate(this.keyOf(key));
  }

  /** `true` when every key had an entry, as Keyv's own fallback reports it. */
  async deleteMany(keys: string[]): Promise<boolean> {
    const removed = await Promise.all(keys.map((key) => this.cache.invalidate(this.keyOf(key))));
    return removed.length > 0 && removed.every(Boolean);
  }

  async clear(): Promise<void> {
    if (this.namespace) await this.cache.invalidateTag(KEYV_NAMESPACE_TAG + this.namespace);
    else await this.cache.clear();
  }

  async disconnect(): Promise<void> {
    // The cache module closes its backends at application shutdown.
  }

  private keyOf(key: string): string {
    return this.prefixesKeys && this.namespace ? `${this.namespace}:${key}` : key;
  }

  private tags(): string[] | undefined {
    return this.namespace ? [KEYV_NAMESPACE_TAG + this.namespace] : undefined;
  }
}

/** Keyv passes milliseconds, or nothing for "no TTL of its own": then the namespace default applies. */
function ttlOf(ttl: number | undefined): number | undefined {
  return typeof ttl === 'number' && ttl > 0 ? Math.ceil(ttl) : undefined;
}
