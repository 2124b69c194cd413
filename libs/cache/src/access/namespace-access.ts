import { NamespaceKeys, StoredKey } from '../keys/namespace-keys';
import { KeyOwner } from '../keys/scoped-key';
import { CacheAccessControl } from './cache-access-control';
import { CacheOperation } from './cache-permission';
import { CachePrincipal } from './cache-principal';

const AUDITED_FAILURES = new Set(['invalidate', 'invalidateTag', 'clear']);

/**
 * The entry check of every public `CacheNamespace` operation: the caller's permission (RBAC) and, in
 * scoped namespaces, the principal rules and the owner whose entries the key names; the key itself
 * goes through the namespace's key rules (`NamespaceKeys`: validation, NFC, owner prefix). Returns
 * the key as stored. `open` namespaces (no RBAC, no scope) only canonicalise.
 */
export class NamespaceAccess {
  readonly open: boolean;
  private readonly namespace: string;
  private readonly scope: NamespaceKeys['scope'];

  constructor(
    /** The namespace's key rules. */
    readonly rules: NamespaceKeys,
    private readonly control: CacheAccessControl | null = null,
  ) {
    this.namespace = rules.namespace;
    this.scope = rules.scope;
    this.open = control === null || (!control.enabled && this.scope === 'none');
  }

  /** Checks `operation` and returns the stored form of `key`. */
  key(operation: CacheOperation, key: string): StoredKey {
    if (this.open) return this.rules.key(key);
    const owner = this.owner(operation, key);
    return this.stored(owner, this.rules.key(key), operation, key);
  }

  /** `key` for each of `keys` (one permission check). */
  keys(operation: CacheOperation, keys: readonly string[]): StoredKey[] {
    if (this.open) return keys.map((k) => this.rules.key(k));
    const owner = this.owner(operation, keys[0]);
    return keys.map((k) => this.stored(owner, this.rules.key(k), operation, k));
  }

  /**
   * Checks `operation` and returns the stored form of `tags`: scoped like keys, so that a tag
   * invalidation reaches the caller's own entries only (user B invalidating "timeline" leaves user
   * A's "timeline" entries alone).
   */
  tags(operation: CacheOperation, tags: readonly unknown[]): StoredKey[] {
    const owner = this.open ? undefined : this.owner(operation, undefined);
    return tags.map((tag) => this.stored(owner, this.rules.tag(tag), operation));
  }

  /**
   * Checks an operation without a key: the permission and, in a scoped namespace, the principal
   * rules (no anonymous caller; not the system principal, which owns no entries there; per tenant, a
   * principal with a tenant). `clear` is the exception to the owner rules: it is namespace-wide,
   * removing every owner's entries (so it needs `admin`), and picks no owner, so any principal but the
   * anonymous one may run it (the system principal and ops jobs without a tenant included).
   */
  check(operation: CacheOperation): void {
    if (this.open) return;
    if (operation === 'clear') this.principal(operation, undefined);
    else this.owner(operation, undefined);
  }

  /** A backend failure of an audited operation (an invalidation or clear that did not happen) is audited as such. */
  failed(operation: string, backend: string): void {
    if (this.control !== null && AUDITED_FAILURES.has(operation)) this.control.recordFailure(this.namespace, operation as CacheOperation, backend);
  }

  /** Checks the permission and, in a scoped namespace, that there is a principal; returns it. */
  private principal(operation: CacheOperation, key: unknown): CachePrincipal {
    const control = this.control!;
    const principal = control.check(this.namespace, operation, key);
    if (this.scope !== 'none' && control.isAnonymous(principal)) {
      throw control.deny(principal, this.namespace, operation, `namespace is scoped per ${this.scope} and the caller has no principal`, key);
    }
    return principal;
  }

  /**
   * Checks the permission; in a scoped namespace, returns the owner the key belongs to. The system
   * principal is no owner: were it one, its entries would be those of a user whose id is its id.
   */
  private owner(operation: CacheOperation, key: unknown): KeyOwner | undefined {
    const principal = this.principal(operation, key);
    if (this.scope === 'none') return undefined;
    if (this.control!.isSystem(principal)) {
      throw this.control!.deny(principal, this.namespace, operation, `namespace is scoped per ${this.scope} and the system principal owns no entries in it (run the call as the owner: runAs)`, key);
    }
    // A user of a tenant owns its entries in that tenant: ids may be unique only within one.
    if (this.scope === 'user') return { id: principal.id, tenant: principal.tenant };
    if (principal.tenant === undefined || principal.tenant === '') {
      throw this.control!.deny(principal, this.namespace, operation, 'namespace is scoped per tenant and the principal has no tenant', key);
    }
    return { id: principal.tenant };
  }

  private stored(owner: KeyOwner | undefined, canonical: StoredKey, operation: CacheOperation, key?: unknown): StoredKey {
    if (owner === undefined) return canonical;
    const scoped = this.rules.owned(owner, canonical);
    if (scoped === undefined) {
      const control = this.control!;
      throw control.deny(control.current(), this.namespace, operation, `the ${this.scope} id cannot be encoded`, key);
    }
    return scoped;
  }
}
