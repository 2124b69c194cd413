import { AsyncLocalStorage } from 'node:async_hooks';
import { AuditActor, AuditActorKind } from '../audit/audit-record';
import { AuditTrail } from '../audit/audit-trail';
import { CacheEvents } from '../events/cache-events';
import { CacheAccessDeniedError } from './cache-access-denied.error';
import { CacheOperation, REQUIRED_PERMISSIONS, requiredMask } from './cache-permission';
import { CachePrincipal } from './cache-principal';
import { PrincipalResolver } from './principal-resolver';
import { ResolvedRbacOptions } from './rbac-options';

/** What the async context carries: an explicit principal (`runAs`), or the request to resolve it from. */
interface AccessScope {
  readonly principal?: CachePrincipal;
  readonly request?: unknown;
  /** `runAsSystemWhile`: set once its work settled; callbacks left behind then run unscoped. */
  readonly ended?: { value: boolean };
}

/** Added to a denial of a call made outside any scope, so that the fix is obvious. */
const NO_SCOPE = 'no principal: the call was made outside any request, runAs or runAsSystem';

/**
 * Who is calling, and what they may do. The principal travels with the call in an
 * `AsyncLocalStorage` scope: `PrincipalContextInterceptor` opens one around every HTTP handler (and
 * `PrincipalContextMiddleware` one around the rest of the middleware chain), resolved lazily from the
 * request so that a user set later by an auth guard is seen; `runAs` opens one explicitly (queue
 * consumers, other transports) and `runAsSystem` one for the system principal (the library's own
 * warm-ups and CLI, and jobs an app declares as its own). A call outside any scope is the unscoped
 * principal: anonymous by default (`rbac.unscopedPrincipal`), never the system principal by
 * accident. A denied operation emits the `denied` event, is audited, and throws
 * `CacheAccessDeniedError` (403).
 */
export class CacheAccessControl {
  private readonly storage = new AsyncLocalStorage<AccessScope>();
  private readonly required = new Map<CacheOperation, number>();

  constructor(
    private readonly options: ResolvedRbacOptions,
    private readonly resolver: PrincipalResolver,
    private readonly audit: AuditTrail,
    private readonly events: CacheEvents,
    /** Some namespace is scoped per user or tenant: requests need a principal even with RBAC off. */
    readonly scoped = false,
  ) {
    for (const operation of Object.keys(REQUIRED_PERMISSIONS) as CacheOperation[]) this.required.set(operation, requiredMask(operation));
  }

  get enabled(): boolean {
    return this.options.enabled;
  }

  /** Whether a cache operation may be refused for its caller (RBAC on, or a scoped namespace). */
  get needsRequestScope(): boolean {
    return this.options.enabled || this.scoped;
  }

  /** Whether requests open a principal scope: checks need one, or audit records name the caller. */
  get tracksCallers(): boolean {
    return this.options.enabled || this.scoped || this.audit.enabled;
  }

  get systemPrincipal(): CachePrincipal {
    return this.options.system;
  }

  /**
   * Runs `fn` (and everything it awaits) as `principal`. While nothing reads the principal (RBAC off,
   * no scoped namespace, audit off) no scope is opened: once a process has opened one,
   * `AsyncLocalStorage` adds a hook to every promise it makes, cache hits included.
   */
  runAs<T>(principal: CachePrincipal, fn: () => T): T {
    if (!this.tracksCallers) return fn();
    return this.storage.run({ principal }, fn);
  }

  /**
   * Runs `fn` (and everything it awaits, and the timers and callbacks it starts) as the system
   * principal (`rbac.system`). For work the app does on its own behalf, never on a request's: start-up
   * hooks that fill caches, scheduled jobs, queue consumers without a user.
   */
  runAsSystem<T>(fn: () => T): T {
    return this.runAs(this.options.system, fn);
  }

  /**
   * Runs `fn` as the system principal until the promise it returns settles: the library's own work
   * (warm-ups). What that work leaves behind (a timer it started, a client it connected lazily, whose
   * callbacks inherit its async context) runs as the unscoped principal afterwards, never as the
   * system principal for the life of the process; an app that means it wraps it in `runAsSystem`.
   */
  runAsSystemWhile<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.tracksCallers) return fn();
    const ended = { value: false };
    return this.storage.run({ principal: this.options.system, ended }, fn).finally(() => {
      ended.value = true;
    });
  }

  /** Runs `fn` (the rest of an HTTP request) with its principal resolved from `request` when needed. */
  runInRequest<T>(request: unknown, fn: () => T): T {
    if (!this.tracksCallers) return fn();
    return this.storage.run({ request }, fn);
  }

  /** The caller: the `runAs` principal, the current request's, or the unscoped principal (anonymous by default) outside any scope. */
  current(): CachePrincipal {
    const scope = this.storage.getStore();
    if (scope === undefined) return this.options.unscoped;
    if (scope.principal !== undefined) return scope.ended?.value === true ? this.options.unscoped : scope.principal;
    return this.principalOf(scope.request);
  }

  /** The principal of a request (anonymous when the resolver finds none). */
  principalOf(request: unknown): CachePrincipal {
    return this.resolver.resolve(request) ?? this.options.anonymous;
  }

  /** The anonymous principal: of a request without a user, or of a call outside any scope. Not a user whose id is "anonymous". */
  isAnonymous(principal: CachePrincipal): boolean {
    return principal === this.options.anonymous || (principal === this.options.unscoped && principal !== this.options.system);
  }

  /** The system principal itself (`runAsSystem`, the library's own work). Not a user whose id is "system". */
  isSystem(principal: CachePrincipal): boolean {
    return principal === this.options.system;
  }

  kindOf(principal: CachePrincipal): AuditActorKind {
    return this.isSystem(principal) ? 'system' : this.isAnonymous(principal) ? 'anonymous' : 'user';
  }

  /** How audit records name `principal` (the current caller by default). */
  actor(principal: CachePrincipal = this.current()): AuditActor {
    return { actor: principal.id, actorKind: this.kindOf(principal) };
  }

  /** Whether `principal` may run `operation` in `namespace` (always, with RBAC off). */
  allows(principal: CachePrincipal, namespace: string, operation: CacheOperation): boolean {
    if (!this.options.enabled) return true;
    if (principal === this.options.system && this.options.systemUnrestricted) return true;
    const need = this.required.get(operation)!;
    const grants = this.options.grants.get(namespace);
    if (grants === undefined) return false;
    let held = 0;
    for (const role of principal.roles) held |= grants.get(role) ?? 0;
    return (held & need) === need;
  }

  /** Checks the current principal; returns it, or throws `CacheAccessDeniedError` (denial emitted and audited). */
  check(namespace: string, operation: CacheOperation, key?: unknown): CachePrincipal {
    const principal = this.current();
    if (this.allows(principal, namespace, operation)) return principal;
    throw this.deny(principal, namespace, operation, `needs ${REQUIRED_PERMISSIONS[operation].map((p) => `"${p}"`).join(' and ')}`, key);
  }

  /** Audits an operation the backend failed (the key stays out: the record says who tried what, where). */
  recordFailure(namespace: string, operation: CacheOperation, backend: string): void {
    this.audit.record({ ...this.actor(), action: operation, namespace, outcome: 'failure', detail: { backend } });
  }

  /** Records a denial (event + audit) and returns the error to throw. */
  deny(principal: CachePrincipal, namespace: string, operation: string, missing: string, key?: unknown, detail: Record<string, string> = {}): CacheAccessDeniedError {
    if (principal === this.options.unscoped && principal !== this.options.system) missing = `${missing} (${NO_SCOPE})`;
    this.events.emit('denied', { namespace, operation, principal: principal.id });
    this.audit.record({
      ...this.actor(principal),
      action: (this.required.has(operation as CacheOperation) ? operation : 'route') as CacheOperation | 'route',
      namespace,
      ...(typeof key === 'string' ? { key } : {}),
      outcome: 'denied',
      detail: { missing, ...(this.required.has(operation as CacheOperation) ? {} : { route: operation }), ...detail },
    });
    return new CacheAccessDeniedError(namespace, operation, principal.id, missing);
  }
}
