import { createCipheriv, createDecipheriv, createSecretKey, KeyObject } from 'node:crypto';
import { AdditionalData } from './additional-data';
import { DecryptionFailedError } from './decryption-failed.error';
import { DecryptedBytes, DecryptedPayload, EncryptionContext, EncryptionProvider } from './encryption-provider.interface';
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
/** Payloads up to this many bytes are decoded into the provider's scratch buffer; larger ones get their own. */
const SCRATCH_MAX = 64 * 1024;

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
  // Scratch buffers: encrypt and decrypt are synchronous and every native call they feed (the IV at
  // set-up, setAuthTag, setAAD, update) copies or consumes its input before returning, so one buffer
  // of each kind serves every call, sparing the allocations (and the GC work) of a fresh one per read.
  // They hold ciphertext and AAD (namespace, cache key), never plaintext or key material.
  private payloadScratch = Buffer.allocUnsafe(4096);
  private readonly aad = new AdditionalData();

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
    return this.encryptBytes(plaintext, context).toString('base64url');
  }

  /** The payload as bytes (binary payloads); `plaintext` as bytes, or text sealed as UTF-8. */
  encryptBytes(plaintext: Buffer | string, context: EncryptionContext): Buffer {
    const { header, key, ivs } = this.sealing;
    const ivAt = header.length;
    const length = typeof plaintext === 'string' ? Buffer.byteLength(plaintext) : plaintext.length;
    const out = Buffer.allocUnsafe(ivAt + IV_BYTES + length + TAG_BYTES);
    header.copy(out, 0);
    ivs.next(out, ivAt);
    const cipher = createCipheriv(NAME, key, out.subarray(ivAt, ivAt + IV_BYTES));
    cipher.setAAD(this.additionalData(header, context));
    const written = (typeof plaintext === 'string' ? cipher.update(plaintext, 'utf8') : cipher.update(plaintext)).copy(out, ivAt + IV_BYTES);
    cipher.final();
    cipher.getAuthTag().copy(out, ivAt + IV_BYTES + written);
    return out;
  }

  decrypt(payload: string, context: EncryptionContext): DecryptedPayload {
    const bytes = this.decodePayload(payload);
    if (bytes === null) throw this.refused('malformed');
    const opened = this.decryptBytes(bytes, context);
    return { plaintext: opened.plaintext.toString('utf8'), stale: opened.stale, keyId: opened.keyId };
  }

  decryptBytes(bytes: Buffer, context: EncryptionContext): DecryptedBytes {
    if (bytes.length < 3 + IV_BYTES + TAG_BYTES) throw this.refused('malformed');
    if (bytes[0] !== VERSION) throw this.refused('unknown-version');
    const idLength = bytes[1];
    const ivAt = 2 + idLength;
    if (idLength === 0 || bytes.length < ivAt + IV_BYTES + TAG_BYTES) throw this.refused('malformed');
    // Most payloads were sealed with the current key: recognise its header without building a string.
    const sealedWith = startsWith(bytes, this.sealing.header) ? this.sealing : this.byId.get(bytes.toString('latin1', 2, ivAt));
    if (sealedWith === undefined) throw this.refused('unknown-key');
    const tagAt = bytes.length - TAG_BYTES;
    try {
      const decipher = createDecipheriv(NAME, sealedWith.key, bytes.subarray(ivAt, ivAt + IV_BYTES), { authTagLength: TAG_BYTES });
      decipher.setAuthTag(bytes.subarray(tagAt));
      // The header just matched the key's own, byte for byte.
      decipher.setAAD(this.additionalData(sealedWith.header, context));
      // A Buffer, decoded once after final(): an output encoding here would go through a StringDecoder.
      const plaintext = decipher.update(bytes.subarray(ivAt + IV_BYTES, tagAt));
      decipher.final(); // throws unless the tag matches: nothing is returned before this line
      return { plaintext, stale: sealedWith !== this.sealing, keyId: sealedWith.id };
    } catch {
      throw this.refused('authentication-failed');
    }
  }

  private refused(reason: ConstructorParameters<typeof DecryptionFailedError>[1]): DecryptionFailedError {
    return new DecryptionFailedError(NAME, reason);
  }

  /** `header ‖ namespace ‖ 0x00 ‖ cache key` (UTF-8), in the AAD scratch buffer. */
  private additionalData(header: Buffer, context: EncryptionContext): Buffer {
    return this.aad.of(header, context);
  }

  /** `decodeBase64Url`, into the payload scratch buffer when the payload fits. */
  private decodePayload(text: string): Buffer | null {
    if (typeof text !== 'string' || text.length % 4 === 1) return null;
    const expected = Math.floor((text.length * 3) / 4);
    if (expected > SCRATCH_MAX) return decodeBase64Url(text);
    if (expected > this.payloadScratch.length) this.payloadScratch = Buffer.allocUnsafe(expected);
    const written = this.payloadScratch.write(text, 0, 'base64url');
    return written === expected ? this.payloadScratch.subarray(0, written) : null;
  }
}

function startsWith(bytes: Buffer, prefix: Buffer): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
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
