import { EventEmitter } from 'node:events';
import { CacheNamespace } from '../namespace/cache-namespace';
import { InvalidArgumentError } from '../errors/invalid-argument.error';

/** What Keyv 5 hands a store's `setMany`. */
export interface KeyvStoreEntry {
  key: string;
  value: unknown;
  ttl?: number;
}

/** Tag carried by every entry a Keyv namespace writes, so that Keyv's `clear()` removes only its own. */
const KEYV_NAMESPACE_TAG = 'keyv-namespace:';

/**
 * A Keyv 5 storage adapter over one cache namespace, so that anything built on Keyv — cache-manager 7,
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
 */
export class CachekitKeyvStore extends EventEmitter {
  /** Set by Keyv to its own namespace. */
  namespace?: string;
  readonly opts: { namespace?: string; dialect: string } = { dialect: 'nest-cachekit' };

  constructor(private readonly cache: CacheNamespace) {
    super();
    if (!(cache instanceof CacheNamespace)) {
      throw new InvalidArgumentError('CachekitKeyvStore needs a cache namespace: new CachekitKeyvStore(cacheService.namespace(name))');
    }
  }

  get<T>(key: string): Promise<T | undefined> {
    return this.cache.get(key) as Promise<T | undefined>;
  }

  async getMany<T>(keys: string[]): Promise<(T | undefined)[]> {
    return (await this.cache.mget(keys)) as (T | undefined)[];
  }

  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    await this.cache.set(key, value, { ttl: ttlOf(ttl), tags: this.tags() });
    return true;
  }

  /**
   * All or nothing (the namespace's `mset`). Resolves one `true` per entry, which Keyv's `setMany`
   * hands back to its caller; typed loosely because Keyv's adapter type declares `Promise<void>`.
   */
  async setMany(entries: KeyvStoreEntry[]): Promise<any> {
    const tags = this.tags();
    await this.cache.mset(entries.map((e) => ({ key: e.key, value: e.value, ttl: ttlOf(e.ttl), tags })));
    return entries.map(() => true);
  }

  has(key: string): Promise<boolean> {
    return this.cache.has(key);
  }

  delete(key: string): Promise<boolean> {
    return this.cache.invalidate(key);
  }

  /** `true` when every key had an entry, as Keyv's own fallback reports it. */
  async deleteMany(keys: string[]): Promise<boolean> {
    const removed = await Promise.all(keys.map((key) => this.cache.invalidate(key)));
    return removed.length > 0 && removed.every(Boolean);
  }

  async clear(): Promise<void> {
    if (this.namespace) await this.cache.invalidateTag(KEYV_NAMESPACE_TAG + this.namespace);
    else await this.cache.clear();
  }

  async disconnect(): Promise<void> {
    // The cache module closes its backends at application shutdown.
  }

  private tags(): string[] | undefined {
    return this.namespace ? [KEYV_NAMESPACE_TAG + this.namespace] : undefined;
  }
}

/** Keyv passes milliseconds, or nothing for "no TTL of its own": then the namespace default applies. */
function ttlOf(ttl: number | undefined): number | undefined {
  return typeof ttl === 'number' && ttl > 0 ? Math.ceil(ttl) : undefined;
}
