import { Ttl } from '../ttl/parse-ttl';

/** Options of the namespace's operations (re-exported by `cache-namespace.ts` and the public API). */
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
