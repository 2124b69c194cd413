import { CachePermission } from './cache-permission';
import { CachePrincipal } from './cache-principal';
import { PrincipalResolver } from './principal-resolver';

/**
 * `rbac` module options. Off by default; when on, every `CacheNamespace` operation (direct calls,
 * `CacheService`, decorated methods, `CacheInterceptor`) is checked against the caller's roles.
 */
export interface RbacOptions {
  enabled?: boolean;
  /**
   * Role → namespace (or `'*'` for every namespace) → permissions. A principal holds the union of
   * its roles' permissions; `admin` implies `read`, `write` and `invalidate`.
   */
  roles?: Record<string, Record<string, CachePermission[]>>;
  /** Roles of a request without a principal. Default: none (every checked operation is denied). */
  anonymousRoles?: string[];
  /**
   * Who calls made outside any HTTP request are (warm-ups, the CLI, start-up code, timers). Default
   * `{ id: 'system' }` with every permission; give `roles` to restrict it to those roles.
   */
  system?: { id?: string; roles?: string[] };
  /** Finds the principal of a request. Default `DefaultPrincipalResolver` (reads `request.user`). */
  principalResolver?: PrincipalResolver;
}

/** RBAC settings after validation. */
export interface ResolvedRbacOptions {
  readonly enabled: boolean;
  /** Namespace → role → granted permission mask. */
  readonly grants: ReadonlyMap<string, ReadonlyMap<string, number>>;
  readonly anonymous: CachePrincipal;
  readonly system: CachePrincipal;
  /** The system principal was not given roles: it holds every permission. */
  readonly systemUnrestricted: boolean;
}
