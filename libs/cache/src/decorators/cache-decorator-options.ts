import { Ttl } from '../ttl/parse-ttl';

/**
 * A cache key: a template over the method's arguments (`'user:{0}'`, `'user:{userId}'`,
 * `'user:{user.id}:tracks:{1}'`; `{{` and `}}` are literal braces) or a function of the arguments.
 * Left out, the key is derived from class, method and arguments (see `defaultKey`).
 */
export type CacheKeySpec = string | ((...args: any[]) => string);

interface CachingOptions {
  key?: CacheKeySpec;
  /** Default: the module's default namespace. */
  namespace?: string;
  ttl?: Ttl;
  /** Cache only when this returns true for the arguments. */
  condition?: (...args: any[]) => boolean;
  /** Do not store the result when this returns true for it (e.g. `(r) => r === null`). */
  unless?: (result: any, ...args: any[]) => boolean;
  /** Tags of the stored entry, as key templates over the arguments (`'artist:{artistId}'`). */
  tags?: CacheKeySpec[];
}

export type CacheableOptions = CachingOptions;
export type CachePutOptions = CachingOptions;

export interface CacheEvictOptions {
  key?: CacheKeySpec;
  keys?: CacheKeySpec[];
  namespace?: string;
  /** Remove every entry carrying these tags (key templates over the arguments). */
  tags?: CacheKeySpec[];
  /** Clear the whole namespace instead of keys. */
  allEntries?: boolean;
  /** Evict before the method runs (and even if it throws); default: after it succeeds. */
  beforeInvocation?: boolean;
  condition?: (...args: any[]) => boolean;
}
