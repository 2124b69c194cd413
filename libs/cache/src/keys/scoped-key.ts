/** Whose entries a namespace holds: shared (default), one set per principal, or one per tenant. */
export type KeyScope = 'none' | 'user' | 'tenant';
export const KEY_SCOPES: readonly KeyScope[] = ['none', 'user', 'tenant'];

/** Whose entries a key of a scoped namespace names: a user (in its tenant, when it has one), or a tenant. */
export interface KeyOwner {
  readonly id: string;
  /** Scope `'user'`: the user's tenant, when the principal carries one. */
  readonly tenant?: string;
}

/**
 * Prefixes a key with its owner: `u:<id>:<key>`, `u:<id>@<tenant>:<key>` for a user of a tenant (ids
 * unique only within a tenant, or one person in several tenants, own their entries per tenant), or
 * `t:<tenant>:<key>`. Each part is percent-encoded (`encodeURIComponent`, which encodes ":" and "@"),
 * so it never holds a separator: principal "a:b" with key "c" and principal "a" with key "b:c" give
 * different stored keys, user "1@acme" is not user "1" of acme, and no key can reach into another
 * owner's entries. Returns undefined for an owner that cannot be encoded (a lone surrogate).
 */
export function scopedKey(scope: 'user' | 'tenant', owner: string | KeyOwner, key: string): string | undefined {
  const { id, tenant } = typeof owner === 'string' ? { id: owner, tenant: undefined } : owner;
  let encoded: string;
  try {
    encoded = encodeURIComponent(id);
    if (scope === 'user' && tenant !== undefined && tenant !== '') encoded += `@${encodeURIComponent(tenant)}`;
  } catch {
    return undefined;
  }
  return `${scope === 'user' ? 'u' : 't'}:${encoded}:${key}`;
}
