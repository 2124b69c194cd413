/** What was done (a cache operation, a namespace-wide action, or a security event). */
export type AuditAction =
  | 'get' | 'has' | 'mget' | 'set' | 'mset' | 'getOrSet'
  | 'invalidate' | 'invalidateTag' | 'clear' | 'stats' | 'warmup' | 'route'
  /** A stored entry failed its integrity check (emitted as the `tamper` event by the encryption layer). */
  | 'tamper'
  /** An entry re-sealed with the newest encryption key on read (the `keyRotated` event of the encryption layer). */
  | 'keyRotation';

export type AuditOutcome = 'success' | 'failure' | 'denied' | 'detected';

/**
 * What kind of principal acted: the system principal (the library's own work, `runAsSystem`), the
 * anonymous principal (a request without a user, or a call outside any scope), or a user the
 * `PrincipalResolver` found (or a `runAs` principal). A user whose id is `system` or `anonymous` is a
 * `'user'`: the kind, not the id, says who it was.
 */
export type AuditActorKind = 'system' | 'user' | 'anonymous';

/** Who acted, as records name them. */
export interface AuditActor {
  readonly actor: string;
  readonly actorKind: AuditActorKind;
}

/**
 * One audit record, as sinks receive it. It never holds a raw key or tag: `keyHash` and `tagHash`
 * are HMAC-SHA256 over `"<namespace>\0<key>"` with the deployment's `audit.keyHashSecret` (hex), so
 * an auditor who knows the secret can check whether a record is about a given key.
 */
export interface AuditRecord {
  /** ISO 8601, UTC. */
  readonly time: string;
  /** The principal's id. */
  readonly actor: string;
  readonly actorKind: AuditActorKind;
  readonly action: AuditAction;
  /** The namespace, or `'*'` for an action on no one namespace (a route guarded by `@CacheRoles`). */
  readonly namespace: string;
  readonly keyHash?: string;
  readonly tagHash?: string;
  readonly outcome: AuditOutcome;
  /** Counts, reasons, names: never keys, values or secrets. */
  readonly detail?: Readonly<Record<string, string | number | boolean>>;
}

/** What callers hand `AuditTrail.record`: raw key and tag, which the trail hashes. */
export interface AuditInput {
  readonly actor: string;
  readonly actorKind: AuditActorKind;
  readonly action: AuditAction;
  readonly namespace: string;
  readonly key?: string;
  readonly tag?: string;
  readonly outcome: AuditOutcome;
  readonly detail?: Readonly<Record<string, string | number | boolean>>;
}
