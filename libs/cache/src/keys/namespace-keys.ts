import { InvalidKeyError } from '../errors/invalid-key.error';
import { MAX_TAG_LENGTH } from './assert-valid-key';
import { canonicalKey, KeyCharset } from './canonical-key';
import { KeyOwner, KeyScope, scopedKey } from './scoped-key';

/**
 * A key (or tag) as stored: checked, canonical and, in a scoped namespace, owner-prefixed. Only
 * `NamespaceKeys` makes them, so a store call on a key that skipped the check does not compile.
 */
export type StoredKey = string & { readonly __stored: unique symbol };

/**
 * The key rules of one namespace, the first step of every operation: a key (or tag) is validated as
 * the caller passed it (type, `maxKeyLength` or `MAX_TAG_LENGTH`, control and invisible characters,
 * `keyCharset`), put in NFC, and in a scoped namespace prefixed with its owner (the prefix is
 * percent-encoded, holds no character a key may not hold, and is not counted against the length).
 * Who the owner is, and whether the caller may act at all, is `NamespaceAccess`'s business.
 */
export class NamespaceKeys {
  constructor(
    readonly namespace: string,
    readonly maxKeyLength: number,
    readonly charset: KeyCharset = 'unicode',
    readonly scope: KeyScope = 'none',
  ) {}

  /** The canonical form of `key`; throws `InvalidKeyError`. */
  key(key: unknown): StoredKey {
    return canonicalKey(key, this.namespace, this.maxKeyLength, this.charset) as StoredKey;
  }

  /** The canonical form of `tag` (tags follow the key rules, up to `MAX_TAG_LENGTH`). */
  tag(tag: unknown): StoredKey {
    return canonicalKey(tag, this.namespace, MAX_TAG_LENGTH, this.charset, 'tag') as StoredKey;
  }

  /** A canonical key or tag under `owner` (scoped namespaces); undefined when the owner id cannot be encoded. */
  owned(owner: KeyOwner, canonical: StoredKey): StoredKey | undefined {
    return scopedKey(this.scope as 'user' | 'tenant', owner, canonical) as StoredKey | undefined;
  }

  /** Whether one of `keys` or `tags` breaks these rules (the decorators' check before they go on without the cache). */
  breaks(keys: readonly unknown[], tags: readonly unknown[] | undefined): boolean {
    try {
      for (const key of keys) this.key(key);
      for (const tag of tags ?? []) this.tag(tag);
      return false;
    } catch (error) {
      if (error instanceof InvalidKeyError) return true;
      throw error;
    }
  }
}
