import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { InvalidEncryptionKeyError } from '../invalid-encryption-key.error';
import { RandomPool } from '../random-pool';
import { InvalidTokenError } from './invalid-token.error';
import { InvalidArgumentError } from '../../errors/invalid-argument.error';

const VERSION = 0x80;
const HEADER_BYTES = 1 + 8 + 16; // version ‖ timestamp ‖ IV
const HMAC_BYTES = 32;
const BLOCK = 16;
/** Python's `cryptography` accepts tokens dated up to 60 s ahead (checked only when a TTL is given). */
const MAX_CLOCK_SKEW_SECONDS = 60;
const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;
const ivs = new RandomPool();

/**
 * Fernet (https://github.com/fernet/spec), with the API of Python's `cryptography.fernet.Fernet`,
 * on Node's crypto: AES-128-CBC with PKCS#7 padding, then HMAC-SHA256 over version, timestamp, IV
 * and ciphertext, compared in constant time. Tokens read and written here are read and written by
 * Python's Fernet, and the other way round.
 *
 * ```ts
 * const key = Fernet.generateKey();          // url-safe base64 of 32 random bytes
 * const f = new Fernet(key);
 * const token = f.encrypt('my deep dark secret');
 * f.decrypt(token).toString();               // 'my deep dark secret'
 * f.decrypt(token, 60);                      // throws InvalidTokenError once the token is over 60 s old
 * ```
 */
export class Fernet {
  private readonly signingKey: Buffer;
  private readonly encryptionKey: Buffer;

  /** `key`: the url-safe base64 of 32 bytes (signing key ‖ encryption key), as a string or its bytes. */
  constructor(key: string | Buffer) {
    const text = Buffer.isBuffer(key) ? key.toString('latin1') : key;
    const bytes = typeof text === 'string' && BASE64URL.test(text) ? Buffer.from(text, 'base64url') : null;
    if (bytes === null || bytes.length !== 32) throw new InvalidEncryptionKeyError('a Fernet key must be 32 url-safe base64-encoded bytes');
    this.signingKey = bytes.subarray(0, 16);
    this.encryptionKey = bytes.subarray(16);
  }

  /** A fresh random key, url-safe base64 with padding (44 characters), as Python's `Fernet.generate_key()`. */
  static generateKey(): string {
    return randomBytes(32).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
  }

  encrypt(data: Buffer | string): string {
    return this.encryptAtTime(data, Math.floor(Date.now() / 1000));
  }

  /** `encrypt` with the timestamp given (seconds since the epoch), as Python's `encrypt_at_time`. */
  encryptAtTime(data: Buffer | string, currentTime: number): string {
    const iv = Buffer.allocUnsafe(16);
    ivs.fill(iv, 0, 16);
    return this.encryptFromParts(data, currentTime, iv);
  }

  /** Decrypts and authenticates; with `ttlSeconds`, also refuses tokens older than that. Throws `InvalidTokenError`. */
  decrypt(token: string | Buffer, ttlSeconds?: number): Buffer {
    return this.decryptAtTime(token, ttlSeconds, Math.floor(Date.now() / 1000));
  }

  /** `decrypt` as of `currentTime` (seconds since the epoch), as Python's `decrypt_at_time`. */
  decryptAtTime(token: string | Buffer, ttlSeconds: number | undefined, currentTime: number): Buffer {
    const data = unverifiedData(token);
    const timestamp = readTimestamp(data);
    if (ttlSeconds !== undefined) {
      if (timestamp + ttlSeconds < currentTime) throw new InvalidTokenError('expired');
      if (currentTime + MAX_CLOCK_SKEW_SECONDS < timestamp) throw new InvalidTokenError('expired');
    }
    return this.open(data);
  }

  /** The token's creation time, seconds since the epoch (after checking its signature), as Python's `extract_timestamp`. */
  extractTimestamp(token: string | Buffer): number {
    const data = unverifiedData(token);
    this.verifySignature(data);
    return readTimestamp(data);
  }

  /**
   * Checks the signature and decrypts data already decoded from a token. Throws `InvalidTokenError`.
   * @internal
   */
  open(data: Buffer): Buffer {
    this.verifySignature(data);
    try {
      const decipher = createDecipheriv('aes-128-cbc', this.encryptionKey, data.subarray(9, HEADER_BYTES));
      const head = decipher.update(data.subarray(HEADER_BYTES, data.length - HMAC_BYTES));
      const tail = decipher.final();
      return tail.length === 0 ? head : Buffer.concat([head, tail]);
    } catch {
      throw new InvalidTokenError('authentication-failed');
    }
  }

  /** @internal For the spec's test vectors, which fix the IV. */
  encryptFromParts(data: Buffer | string, currentTime: number, iv: Buffer): string {
    const plaintext = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (!Buffer.isBuffer(plaintext)) throw new InvalidArgumentError('Fernet.encrypt: data must be a Buffer or a string');
    const cipherLength = (Math.floor(plaintext.length / BLOCK) + 1) * BLOCK;
    const out = Buffer.allocUnsafe(HEADER_BYTES + cipherLength + HMAC_BYTES);
    out[0] = VERSION;
    out.writeUInt32BE(Math.floor(currentTime / 2 ** 32), 1);
    out.writeUInt32BE(currentTime >>> 0, 5);
    iv.copy(out, 9, 0, 16);
    const cipher = createCipheriv('aes-128-cbc', this.encryptionKey, iv);
    const n = cipher.update(plaintext).copy(out, HEADER_BYTES);
    cipher.final().copy(out, HEADER_BYTES + n);
    createHmac('sha256', this.signingKey).update(out.subarray(0, HEADER_BYTES + cipherLength)).digest().copy(out, HEADER_BYTES + cipherLength);
    // Python writes padded url-safe base64; base64url in Node has no padding, so add it.
    const text = out.toString('base64url');
    return text + '='.repeat((4 - (text.length % 4)) % 4);
  }

  private verifySignature(data: Buffer): void {
    const signed = data.length - HMAC_BYTES;
    const expected = createHmac('sha256', this.signingKey).update(data.subarray(0, signed)).digest();
    if (!timingSafeEqual(expected, data.subarray(signed))) throw new InvalidTokenError('authentication-failed');
  }
}

/**
 * (Exported for `FernetEncryptionProvider`, not part of the public API.)
 * Decodes a token and checks its shape: url-safe base64 (padding optional), version 0x80, room for
 * the header, at least one cipher block, and whole blocks.
 */
export function unverifiedData(token: string | Buffer): Buffer {
  const text = Buffer.isBuffer(token) ? token.toString('latin1') : token;
  const data = typeof text === 'string' ? decodePaddedBase64Url(text) : null;
  if (data === null) throw new InvalidTokenError('malformed');
  if (data.length === 0 || data[0] !== VERSION) throw new InvalidTokenError(data.length === 0 ? 'malformed' : 'unknown-version');
  const body = data.length - HEADER_BYTES - HMAC_BYTES;
  if (body < BLOCK || body % BLOCK !== 0) throw new InvalidTokenError('malformed');
  return data;
}

/**
 * url-safe base64, padding optional. Node's decoder skips characters outside the alphabet instead of
 * failing, so a decoded length short of what the text's length implies means the text was not clean
 * (cheaper than a regular expression over the whole token).
 */
function decodePaddedBase64Url(text: string): Buffer | null {
  let end = text.length;
  if (end > 0 && text.charCodeAt(end - 1) === 0x3d) end--;
  if (end > 0 && text.charCodeAt(end - 1) === 0x3d) end--;
  if (end % 4 === 1 || (end < text.length && text.length % 4 !== 0)) return null;
  const data = Buffer.from(end === text.length ? text : text.slice(0, end), 'base64url');
  return data.length === Math.floor((end * 3) / 4) ? data : null;
}

export function readTimestamp(data: Buffer): number {
  return data.readUInt32BE(1) * 2 ** 32 + data.readUInt32BE(5);
}
