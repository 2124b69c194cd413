/** What a role may do in a namespace. `admin` implies the other three. */
export type CachePermission = 'read' | 'write' | 'invalidate' | 'admin';
export const CACHE_PERMISSIONS: readonly CachePermission[] = ['read', 'write', 'invalidate', 'admin'];

/** The checked operations, each needing the permissions of `REQUIRED_PERMISSIONS`. */
export type CacheOperation =
  | 'get' | 'has' | 'mget' | 'set' | 'mset' | 'getOrSet' | 'invalidate' | 'invalidateTag' | 'clear' | 'stats' | 'warmup';

const BITS: Record<CachePermission, number> = { read: 1, write: 2, invalidate: 4, admin: 8 };
/** What granting a permission grants (admin: everything). */
const GRANTS: Record<CachePermission, number> = { read: 1, write: 2, invalidate: 4, admin: 15 };

/**
 * `getOrSet` (and so `@Cacheable`) reads and may write; clearing a whole namespace, its stats and
 * warm-ups are namespace-wide actions, kept for `admin`.
 */
export const REQUIRED_PERMISSIONS: Record<CacheOperation, readonly CachePermission[]> = {
  get: ['read'],
  has: ['read'],
  mget: ['read'],
  set: ['write'],
  mset: ['write'],
  getOrSet: ['read', 'write'],
  invalidate: ['invalidate'],
  invalidateTag: ['invalidate'],
  clear: ['admin'],
  stats: ['admin'],
  warmup: ['admin'],
};

export const requiredMask = (operation: CacheOperation): number =>
  REQUIRED_PERMISSIONS[operation].reduce((mask, p) => mask | BITS[p], 0);

export const grantedMask = (permissions: readonly CachePermission[]): number =>
  permissions.reduce((mask, p) => mask | GRANTS[p], 0);
