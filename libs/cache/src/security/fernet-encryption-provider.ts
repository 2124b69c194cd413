import { DecryptionFailedError } from './decryption-failed.error';
import { DecryptedPayload, EncryptionContext, EncryptionProvider } from './encryption-provider.interface';
import { EncryptionKeyInput, readEncryptionKeys } from './encryption-keys';
import { Fernet, readTimestamp, unverifiedData } from './fernet/fernet';
import { InvalidTokenError } from './fernet/invalid-token.error';

export interface FernetEncryptionProviderOptions {
  /** Fernet keys (url-safe base64 of 32 bytes, as `Fernet.generateKey()` makes), newest first: `keys[0]` encrypts, every key decrypts. */
  keys: readonly EncryptionKeyInput[];
  /** Refuse tokens older than this many seconds (Fernet's own TTL check). Default: no limit (the cache's TTL applies). */
  ttlSeconds?: number;
  /**
   * Fernet has no associated data, so a token copied from one key to another still opens. With
   * `bindContext: true` the plaintext is `namespace ‖ 0x00 ‖ key ‖ 0x00 ‖ payload`, checked on read,
   * so a copy is detected; a Python reader or writer must then frame the plaintext the same way.
   * Default `false`: tokens hold the serializer's text only, as any Fernet user would write it.
   */
  bindContext?: boolean;
}

const NAME = 'fernet';

/**
 * Stores entries as Fernet tokens, so a Python service using `cryptography.fernet` (or `MultiFernet`
 * with the same keys) reads and writes the same cache. Several keys behave as `MultiFernet`: the
 * first encrypts, each is tried in turn to decrypt, and a token opened by a later one is `stale`.
 */
export class FernetEncryptionProvider implements EncryptionProvider {
  readonly name = NAME;
  private readonly fernets: Fernet[];
  /** Each key's `id`, or its position (`#1`) when it has none: Fernet tokens carry no key id. */
  private readonly keyIds: string[];
  private readonly ttlSeconds: number | undefined;
  private readonly bindContext: boolean;

  constructor(options: FernetEncryptionProviderOptions) {
    const keys = readEncryptionKeys(options?.keys, { length: 32, requireId: false });
    this.fernets = keys.map(({ bytes }) => new Fernet(bytes.toString('base64url')));
    this.keyIds = keys.map(({ id }) => id);
    this.ttlSeconds = options.ttlSeconds;
    this.bindContext = options.bindContext ?? false;
  }

  /** The id of the key that seals (`keys[0]`). */
  get currentKeyId(): string {
    return this.keyIds[0];
  }

  encrypt(plaintext: string, context: EncryptionContext): string {
    return this.fernets[0].encrypt(this.bindContext ? `${context.namespace}\u0000${context.key}\u0000${plaintext}` : plaintext);
  }

  decrypt(payload: string, context: EncryptionContext): DecryptedPayload {
    let data: Buffer;
    try {
      data = unverifiedData(payload);
    } catch (error) {
      throw new DecryptionFailedError(NAME, (error as InvalidTokenError).reason);
    }
    if (this.ttlSeconds !== undefined && readTimestamp(data) + this.ttlSeconds < Date.now() / 1000) {
      throw new DecryptionFailedError(NAME, 'expired');
    }
    for (let i = 0; i < this.fernets.length; i++) {
      let opened: Buffer;
      try {
        opened = this.fernets[i].open(data);
      } catch {
        continue;
      }
      return { plaintext: this.unframe(opened.toString('utf8'), context), stale: i > 0, keyId: this.keyIds[i] };
    }
    // No key id in a Fernet token: an unknown key and a forged token look the same.
    throw new DecryptionFailedError(NAME, 'authentication-failed');
  }

  private unframe(text: string, { namespace, key }: EncryptionContext): string {
    if (!this.bindContext) return text;
    const prefix = `${namespace}\u0000${key}\u0000`;
    if (!text.startsWith(prefix)) throw new DecryptionFailedError(NAME, 'authentication-failed');
    return text.slice(prefix.length);
  }
}
