/** What a ciphertext is bound to: a value sealed for one entry does not open as another. */
export interface EncryptionContext {
  /** The namespace's name. */
  readonly namespace: string;
  /** The cache key, without any prefix. */
  readonly key: string;
}

/** The result of opening a payload. */
export interface DecryptedPayload {
  /** The serializer's text. */
  readonly plaintext: string;
  /** Sealed with a key that is no longer the newest: `reencryptOnRead` seals it again. */
  readonly stale: boolean;
  /** The id of the key that opened it, where the provider names its keys (shown in the `keyRotated` event). */
  readonly keyId?: string;
}

/** The result of opening a binary payload (`decryptBytes`). */
export interface DecryptedBytes {
  /** The plaintext bytes (valid until the provider's next call: copy what is kept). */
  readonly plaintext: Buffer;
  readonly stale: boolean;
  readonly keyId?: string;
}

/**
 * Encrypts the serializer's text before it leaves the process, and authenticates what comes back.
 * One instance may serve several namespaces: everything entry-specific arrives in `context`.
 *
 * Both methods are synchronous (Node's crypto is), so encryption adds no turn of the event loop. A
 * provider backed by a remote KMS should cache its data keys and seal locally.
 *
 * `decrypt` must throw (a `DecryptionFailedError` with a `reason`, ideally) for anything it cannot
 * authenticate: a wrong key, an unknown key id, a payload altered, truncated, or sealed for another
 * key or namespace. It must never return text it has not authenticated.
 */
export interface EncryptionProvider {
  /** Shown in logs and stats, e.g. `aes-256-gcm`. */
  readonly name: string;
  /** The id of the key that seals, where the provider names its keys (shown in the `keyRotated` event). */
  readonly currentKeyId?: string;
  encrypt(plaintext: string, context: EncryptionContext): string;
  decrypt(payload: string, context: EncryptionContext): DecryptedPayload;
  /**
   * Optional: the same seal on bytes, without the text encoding, for backends that store bytes
   * (Redis) and for compressed values. A provider without both keeps text payloads.
   */
  encryptBytes?(plaintext: Buffer, context: EncryptionContext): Buffer;
  /** Optional: opens what `encryptBytes` made; throws like `decrypt`. */
  decryptBytes?(payload: Buffer, context: EncryptionContext): DecryptedBytes;
}

/**
 * Injection token of the same name, for apps that provide their own `EncryptionProvider` in a module
 * and hand it to `CacheModule.forRootAsync` (`inject: [EncryptionProvider]`, then
 * `encryptionProviders: { kms: provider }`).
 */
export const EncryptionProvider = Symbol('EncryptionProvider');
