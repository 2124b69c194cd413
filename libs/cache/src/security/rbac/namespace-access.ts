import { canonicalKey, KeyCharset } from '../../keys/canonical-key';
import { KeyScope, scopedKey } from '../../keys/scoped-key';
import { CacheAccessControl } from './cache-access-control';
import { CacheOperation } from './cache-permission';

const AUDITED_FAILURES = new Set(['invalidate', 'invalidateTag', 'clear']);

/**
 * The entry check of every public `CacheNamespace` operation: the caller's permission (RBAC), the
 * key's canonical form (NFC, charset) and, in scoped namespaces, its owner prefix. Returns the key
 * as stored. `open` namespaces (no RBAC, no scope) only canonicalise.
 */
export class NamespaceAccess {
  readonly open: boolean;

  constructor(
    private readonly namespace: string,
    private readonly maxKeyLength: number,
    private readonly charset: KeyCharset = 'unicode',
    private readonly scope: KeyScope = 'none',
    private readonly control: CacheAccessControl | null = null,
  ) {
    this.open = control === null || (!control.enabled && scope === 'none');
  }

  /** Checks `operation` and returns the stored form of `key`. */
  key(operation: CacheOperation, key: string): string {
    if (this.open) return canonicalKey(key, this.namespace, this.maxKeyLength, this.charset);
    const owner = this.owner(operation, key);
    const canonical = canonicalKey(key, this.namespace, this.maxKeyLength, this.charset);
    return owner === undefined ? canonical : this.scoped(owner, canonical, operation);
  }

  /** `key` for each of `keys` (one permission check). */
  keys(operation: CacheOperation, keys: readonly string[]): string[] {
    if (this.open) return keys.map((k) => canonicalKey(k, this.namespace, this.maxKeyLength, this.charset));
    const owner = this.owner(operation, keys[0]);
    return keys.map((k) => {
      const canonical = canonicalKey(k, this.namespace, this.maxKeyLength, this.charset);
      return owner === undefined ? canonical : this.scoped(owner, canonical, operation);
    });
  }

  /** Checks an operation without a key (tag invalidation, clear). */
  check(operation: CacheOperation): void {
    if (this.control !== null) this.control.check(this.namespace, operation);
  }

  /** A backend failure of an audited operation (an invalidation or clear that did not happen) is audited as such. */
  failed(operation: string, backend: string): void {
    if (this.control !== null && AUDITED_FAILURES.has(operation)) this.control.recordFailure(this.namespace, operation as CacheOperation, backend);
  }

  /** Checks the permission; in a scoped namespace, returns the owner the key belongs to. */
  private owner(operation: CacheOperation, key: unknown): string | undefined {
    const control = this.control!;
    const principal = control.check(this.namespace, operation, key);
    if (this.scope === 'none') return undefined;
    if (control.isAnonymous(principal)) throw control.deny(principal, this.namespace, operation, `namespace is scoped per ${this.scope} and the caller has no principal`, key);
    if (this.scope === 'user') return principal.id;
    if (principal.tenant === undefined || principal.tenant === '') {
      throw control.deny(principal, this.namespace, operation, 'namespace is scoped per tenant and the principal has no tenant', key);
    }
    return principal.tenant;
  }

  private scoped(owner: string, key: string, operation: CacheOperation): string {
    const scoped = scopedKey(this.scope as 'user' | 'tenant', owner, key);
    if (scoped === undefined) {
      const control = this.control!;
      throw control.deny(control.current(), this.namespace, operation, `the ${this.scope} id cannot be encoded`, key);
    }
    return scoped;
  }
}
