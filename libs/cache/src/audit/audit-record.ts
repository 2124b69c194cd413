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
 * One audit record, as sinks receive it. It never holds a raw key or tag: `keyHash` and `tagHash`
 * are HMAC-SHA256 over `"<namespace>\0<key>"` with the deployment's `audit.keyHashSecret` (hex), so
 * an auditor who knows the secret can check whether a record is about a given key.
 */
export interface AuditRecord {
  /** ISO 8601, UTC. */
  readonly time: string;
  /** The principal's id (`'system'` for warm-ups, the CLI and other calls outside requests). */
  readonly actor: string;
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
  readonly action: AuditAction;
  readonly namespace: string;
  readonly key?: string;
  readonly tag?: string;
  readonly outcome: AuditOutcome;
  readonly detail?: Readonly<Record<string, string | number | boolean>>;
}
