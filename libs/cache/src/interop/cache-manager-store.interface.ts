/**
 * The store shape of cache-manager 4/5 (`cache-manager-ioredis-yet`, `cache-manager-redis-store`,
 * …): TTLs in milliseconds, `undefined` for a miss. Only `get`, `set` and `del` are required; the
 * bulk methods and `keys` are used when present.
 */
export interface CacheManagerStore {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown, ttlMs?: number): Promise<unknown>;
  del(key: string): Promise<unknown>;
  mget?(...keys: string[]): Promise<unknown[]>;
  mset?(entries: [string, unknown][], ttlMs?: number): Promise<unknown>;
  mdel?(...keys: string[]): Promise<unknown>;
  /** A glob pattern (`prefix*`); needed for `clear()`. */
  keys?(pattern: string): Promise<string[]>;
}
