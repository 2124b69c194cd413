import { DecryptionFailedError } from './decryption-failed.error';
import { DecryptedPayload, EncryptionProvider } from './encryption-provider.interface';

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

  constructor(private readonly namespace: string, encryption: NamespaceEncryption) {
    this.provider = encryption.provider;
    this.reencryptOnRead = encryption.reencryptOnRead;
  }

  get providerName(): string {
    return this.provider.name;
  }

  seal(text: string, key: string): string {
    const sealed = this.provider.encrypt(text, { namespace: this.namespace, key });
    if (typeof sealed !== 'string') throw new TypeError(`encryption provider "${this.provider.name}" returned a ${typeof sealed}, not a string`);
    return sealed;
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
