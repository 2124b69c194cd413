import { createCipheriv, createDecipheriv, createSecretKey, KeyObject } from 'node:crypto';
import { DecryptionFailedError } from './decryption-failed.error';
import { DecryptedPayload, EncryptionContext, EncryptionProvider } from './encryption-provider.interface';
import { EncryptionKeyInput, readEncryptionKeys } from './encryption-keys';
import { GcmIvSource } from './gcm-iv-source';

export interface AesGcmEncryptionProviderOptions {
  /** Newest first: `keys[0]` encrypts, every key decrypts. Each needs an `id` (written into the payload). */
  keys: readonly EncryptionKeyInput[];
}

/** Format version 1 of the payload. */
const VERSION = 0x01;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const NAME = 'aes-256-gcm';

interface SealingKey {
  readonly id: string;
  /** version ‖ id length ‖ id: the payload's header, also the start of the AAD. */
  readonly header: Buffer;
  readonly key: KeyObject;
  readonly ivs: GcmIvSource;
}

/**
 * The default provider: AES-256-GCM on Node's crypto. A payload is the base64url (no padding) of
 *
 *     version (1 byte, 0x01) ‖ key id length (1) ‖ key id (1–32, ASCII) ‖ nonce (12) ‖ ciphertext ‖ tag (16)
 *
 * and the additional authenticated data is the header (version, key id) followed by
 * `namespace ‖ 0x00 ‖ cache key` (UTF-8). So a payload only opens for the entry it was sealed for: a
 * value copied to another key or namespace, truncated, or altered in any byte fails authentication.
 * Several keys may be configured; the newest (first) seals, any opens, and a payload sealed with an
 * older one is reported `stale` (for re-encrypt-on-read).
 */
export class AesGcmEncryptionProvider implements EncryptionProvider {
  readonly name = NAME;
  private readonly sealing: SealingKey;
  private readonly byId = new Map<string, SealingKey>();

  constructor(options: AesGcmEncryptionProviderOptions) {
    const keys = readEncryptionKeys(options?.keys, { length: 32, requireId: true });
    for (const { id, bytes } of keys) {
      const header = Buffer.alloc(2 + id.length);
      header[0] = VERSION;
      header[1] = id.length;
      header.write(id, 2, 'latin1');
      this.byId.set(id, { id, header, key: createSecretKey(bytes), ivs: new GcmIvSource() });
    }
    this.sealing = this.byId.get(keys[0].id)!;
  }

  /** The id of the key that seals (`keys[0]`). */
  get currentKeyId(): string {
    return this.sealing.id;
  }

  encrypt(plaintext: string, context: EncryptionContext): string {
    const { header, key, ivs } = this.sealing;
    const ivAt = header.length;
    const out = Buffer.allocUnsafe(ivAt + IV_BYTES + Buffer.byteLength(plaintext) + TAG_BYTES);
    header.copy(out, 0);
    ivs.next(out, ivAt);
    const cipher = createCipheriv(NAME, key, out.subarray(ivAt, ivAt + IV_BYTES));
    cipher.setAAD(additionalData(header, context));
    const written = cipher.update(plaintext, 'utf8').copy(out, ivAt + IV_BYTES);
    cipher.final();
    cipher.getAuthTag().copy(out, ivAt + IV_BYTES + written);
    return out.toString('base64url');
  }

  decrypt(payload: string, context: EncryptionContext): DecryptedPayload {
    const bytes = decodeBase64Url(payload);
    if (bytes === null || bytes.length < 3 + IV_BYTES + TAG_BYTES) throw this.refused('malformed');
    if (bytes[0] !== VERSION) throw this.refused('unknown-version');
    const idLength = bytes[1];
    const ivAt = 2 + idLength;
    if (idLength === 0 || bytes.length < ivAt + IV_BYTES + TAG_BYTES) throw this.refused('malformed');
    const sealedWith = this.byId.get(bytes.toString('latin1', 2, ivAt));
    if (sealedWith === undefined) throw this.refused('unknown-key');
    const tagAt = bytes.length - TAG_BYTES;
    try {
      const decipher = createDecipheriv(NAME, sealedWith.key, bytes.subarray(ivAt, ivAt + IV_BYTES), { authTagLength: TAG_BYTES });
      decipher.setAuthTag(bytes.subarray(tagAt));
      decipher.setAAD(additionalData(bytes.subarray(0, ivAt), context));
      // A Buffer, decoded once after final(): an output encoding here would go through a StringDecoder.
      const plaintext = decipher.update(bytes.subarray(ivAt + IV_BYTES, tagAt));
      decipher.final(); // throws unless the tag matches: nothing is returned before this line
      return { plaintext: plaintext.toString('utf8'), stale: sealedWith !== this.sealing };
    } catch {
      throw this.refused('authentication-failed');
    }
  }

  private refused(reason: ConstructorParameters<typeof DecryptionFailedError>[1]): DecryptionFailedError {
    return new DecryptionFailedError(NAME, reason);
  }
}

function additionalData(header: Buffer, { namespace, key }: EncryptionContext): Buffer {
  const namespaceBytes = Buffer.byteLength(namespace);
  const aad = Buffer.allocUnsafe(header.length + namespaceBytes + 1 + Buffer.byteLength(key));
  header.copy(aad, 0);
  aad.write(namespace, header.length, 'utf8');
  aad[header.length + namespaceBytes] = 0;
  aad.write(key, header.length + namespaceBytes + 1, 'utf8');
  return aad;
}

/**
 * Strict base64url without padding: Node's decoder skips characters outside the alphabet, so a
 * decoded length short of what the text length implies means the text was not clean base64url.
 */
export function decodeBase64Url(text: string): Buffer | null {
  if (typeof text !== 'string' || text.length % 4 === 1) return null;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.length === Math.floor((text.length * 3) / 4) ? bytes : null;
}
