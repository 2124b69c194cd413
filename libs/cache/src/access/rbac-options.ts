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
   * The system principal: who the library's own work runs as (bootstrap and background `@Warmup`s,
   * the warm-up CLI, the admin API's warm-ups) and whoever `runAsSystem(fn)` runs. Default
   * `{ id: 'system' }` with every permission; give `roles` to restrict it to those roles.
   */
  system?: { id?: string; roles?: string[] };
  /**
   * Who a cache call made outside any request, `runAs` or `runAsSystem` is (a timer, a queue
   * consumer, an `onModuleInit` hook, a callback that lost its async context). Default
   * `'anonymous'`: the anonymous principal (`anonymousRoles`), refused where RBAC or a scoped
   * namespace needs an identity. `'system'` runs such calls with the system principal's rights: only
   * for an app that serves no untrusted requests, or while migrating.
   */
  unscopedPrincipal?: 'anonymous' | 'system';
  /** Finds the principal of a request. Default `DefaultPrincipalResolver` (reads `request.user`). */
  principalResolver?: PrincipalResolver;
}

/** RBAC settings after validation. */
export interface ResolvedRbacOptions {
  readonly enabled: boolean;
  /** Namespace → role → granted permission mask. */
  readonly grants: ReadonlyMap<string, ReadonlyMap<string, number>>;
  /** The principal of a request the resolver finds no one in. */
  readonly anonymous: CachePrincipal;
  readonly system: CachePrincipal;
  /** Who calls outside any scope are: the system principal, or an anonymous one of its own (same id and roles as `anonymous`). */
  readonly unscoped: CachePrincipal;
  /** The system principal was not given roles: it holds every permission. */
  readonly systemUnrestricted: boolean;
}
