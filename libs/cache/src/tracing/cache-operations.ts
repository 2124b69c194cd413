/** The public operations of a namespace that are timed and traced, plus `load` (a `getOrSet` loader call). */
export const CACHE_OPERATIONS = ['get', 'set', 'has', 'invalidate', 'getOrSet', 'mget', 'mset', 'invalidateTag', 'clear', 'load'] as const;

export type CacheOperationName = (typeof CACHE_OPERATIONS)[number];

/** Index of each operation in the timing arrays. */
export const OP = Object.freeze(
  Object.fromEntries(CACHE_OPERATIONS.map((name, i) => [name, i])) as { [K in CacheOperationName]: number },
);
