/** Whose entries a namespace holds: shared (default), one set per principal, or one per tenant. */
export type KeyScope = 'none' | 'user' | 'tenant';
export const KEY_SCOPES: readonly KeyScope[] = ['none', 'user', 'tenant'];

/**
 * Prefixes a key with its owner: `u:<id>:<key>` or `t:<tenant>:<key>`. The owner is percent-encoded
 * (`encodeURIComponent`, which encodes ":"), so it never holds the separator: principal "a:b" with
 * key "c" and principal "a" with key "b:c" give different stored keys, and no key can reach into
 * another owner's entries. Returns undefined for an owner that cannot be encoded (a lone surrogate).
 */
export function scopedKey(scope: 'user' | 'tenant', owner: string, key: string): string | undefined {
  let encoded: string;
  try {
    encoded = encodeURIComponent(owner);
  } catch {
    return undefined;
  }
  return `${scope === 'user' ? 'u' : 't'}:${encoded}:${key}`;
}
