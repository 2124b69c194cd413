import { DecryptionFailedError } from './decryption-failed.error';
import { DecryptedBytes, DecryptedPayload, EncryptionProvider } from './encryption-provider.interface';
import { ContractViolationError } from '../errors/contract-violation.error';

/** An entry sealed again with the newest key (the `keyRotated` cache event). */
export interface KeyRotation {
  readonly namespace: string;
  /** The stored key (owner-scoped in scoped namespaces). */
  readonly key: string;
  /** The key ids, where the provider names its keys. */
  readonly fromKeyId?: string;
  readonly toKeyId?: string;
}

/** Where re-sealed entries are reported: the namespace's `CacheEvents`. */
export interface KeyRotationListener {
  has(event: 'keyRotated'): boolean;
  emit(event: 'keyRotated', payload: KeyRotation): void;
}

/** A namespace's encryption settings, resolved at start-up. */
export interface NamespaceEncryption {
  readonly provider: EncryptionProvider;
  /** Seal again, with the newest key, an entry read that was sealed with an older one. */
  readonly reencryptOnRead: boolean;
}

/**
 * The encryption step of one namespace's byte pipeline (value → serializer → seal → backend, and
 * back): binds every payload to the namespace and the cache key, and turns whatever a provider
 * throws on a bad payload into a `DecryptionFailedError` with a reason.
 */
export class NamespaceCipher {
  readonly reencryptOnRead: boolean;
  private readonly provider: EncryptionProvider;

  constructor(private readonly namespace: string, encryption: NamespaceEncryption, private readonly events?: KeyRotationListener) {
    this.provider = encryption.provider;
    this.reencryptOnRead = encryption.reencryptOnRead;
  }

  get providerName(): string {
    return this.provider.name;
  }

  seal(text: string, key: string): string {
    const sealed = this.provider.encrypt(text, { namespace: this.namespace, key });
    if (typeof sealed !== 'string') throw new ContractViolationError(`encryption provider "${this.provider.name}" returned a ${typeof sealed}, not a string`);
    return sealed;
  }

  /** The provider seals bytes (`encryptBytes`/`decryptBytes`): binary payloads and compression are possible. */
  get sealsBytes(): boolean {
    return typeof this.provider.encryptBytes === 'function' && typeof this.provider.decryptBytes === 'function';
  }

  sealBytes(bytes: Buffer, key: string): Buffer {
    const sealed = this.provider.encryptBytes!(bytes, { namespace: this.namespace, key });
    if (!Buffer.isBuffer(sealed)) throw new ContractViolationError(`encryption provider "${this.provider.name}" returned a ${typeof sealed} from encryptBytes, not a Buffer`);
    return sealed;
  }

  /** Throws `DecryptionFailedError` for bytes that do not authenticate as this entry's. */
  openBytes(bytes: Buffer, key: string): DecryptedBytes {
    let opened: DecryptedBytes;
    try {
      opened = this.provider.decryptBytes!(bytes, { namespace: this.namespace, key });
    } catch (error) {
      if (error instanceof DecryptionFailedError) throw error;
      throw new DecryptionFailedError(this.provider.name, 'authentication-failed');
    }
    if (opened === null || typeof opened !== 'object' || !Buffer.isBuffer(opened.plaintext)) throw new DecryptionFailedError(this.provider.name, 'malformed');
    return opened;
  }

  /** Reports that the entry under `key`, opened as `opened`, now holds a payload sealed with the newest key. */
  rotated(key: string, opened: { readonly keyId?: string }): void {
    if (this.events === undefined || !this.events.has('keyRotated')) return;
    this.events.emit('keyRotated', { namespace: this.namespace, key, fromKeyId: opened.keyId, toKeyId: this.provider.currentKeyId });
  }

  /** Throws `DecryptionFailedError` for a payload that does not authenticate as this entry's. */
  open(payload: string, key: string): DecryptedPayload {
    let opened: DecryptedPayload;
    try {
      opened = this.provider.decrypt(payload, { namespace: this.namespace, key });
    } catch (error) {
      if (error instanceof DecryptionFailedError) throw error;
      throw new DecryptionFailedError(this.provider.name, 'authentication-failed');
    }
    if (opened === null || typeof opened !== 'object' || typeof opened.plaintext !== 'string') {
      throw new DecryptionFailedError(this.provider.name, 'malformed');
    }
    return opened;
  }
}
