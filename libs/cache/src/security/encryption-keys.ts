import { InvalidEncryptionKeyError } from './invalid-encryption-key.error';

/** One configured key, as written in the options. Give `key` or `env`, not both. */
export interface EncryptionKeyInput {
  /**
   * Written into every ciphertext (AES-256-GCM), so that a read finds the key that sealed it:
   * 1–32 letters, digits, `_`, `-` or `.`, e.g. `'2026-12'`. Fernet tokens carry no key id; there it
   * is optional and only names the key in errors.
   */
  id?: string;
  /** The key: base64 (standard or url-safe, padding optional) or hex text, or the raw bytes. */
  key?: string | Uint8Array;
  /** The name of an environment variable that holds the key as text; read once, at start-up. */
  env?: string;
}

/** A validated key. */
export interface EncryptionKey {
  readonly id: string;
  readonly bytes: Buffer;
}

const KEY_ID = /^[A-Za-z0-9_.-]{1,32}$/;
const HEX = /^[0-9a-fA-F]+$/;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;
const GENERATE_HINT = 'generate one with `openssl rand -base64 32`';

/**
 * Decodes key text (hex, or base64 in either alphabet) or takes raw bytes, and checks the length.
 * Reasons name the expected form and the decoded length, never the key.
 */
export function decodeKeyMaterial(input: unknown, length: number): Buffer {
  if (input instanceof Uint8Array) {
    if (input.length !== length) throw new InvalidEncryptionKeyError(`must be ${length} bytes (got ${input.length} raw bytes)`);
    return Buffer.from(input);
  }
  if (typeof input !== 'string') throw new InvalidEncryptionKeyError(`must be a string (base64 or hex) or a Buffer of ${length} bytes (got ${input === null ? 'null' : typeof input})`);
  // Secrets mounted from files often end with a newline.
  const text = input.trim();
  if (text === '') throw new InvalidEncryptionKeyError(`is empty; ${GENERATE_HINT}`);
  if (text.length === length * 2 && HEX.test(text)) return Buffer.from(text, 'hex');
  if (BASE64.test(text)) {
    const bytes = Buffer.from(text.replace(/=+$/, ''), 'base64url');
    if (bytes.length === length) return bytes;
    throw new InvalidEncryptionKeyError(`must decode to ${length} bytes (it decodes to ${bytes.length}); ${GENERATE_HINT}`);
  }
  throw new InvalidEncryptionKeyError(`must be ${length} bytes written as base64 (standard or url-safe) or as ${length * 2} hex digits; ${GENERATE_HINT}`);
}

/**
 * Refuses keys that are obviously not random: one repeated byte (all zero…), a short pattern
 * repeated, few distinct byte values, or printable text (a password where a key belongs). A random
 * 32-byte key fails one of these with a probability below 1e-13.
 */
export function assertStrongKey(bytes: Buffer): void {
  const weak = (why: string): never => {
    throw new InvalidEncryptionKeyError(`is weak: ${why}; ${GENERATE_HINT}`);
  };
  if (bytes.every((b) => b === bytes[0])) weak(`every byte is 0x${bytes[0].toString(16).padStart(2, '0')}`);
  for (let period = 2; period <= bytes.length / 2; period++) {
    if (bytes.subarray(period).equals(bytes.subarray(0, bytes.length - period))) {
      weak(`it repeats a ${period}-byte pattern`);
    }
  }
  if (new Set(bytes).size < Math.min(12, bytes.length / 2)) weak('it has too few distinct byte values to be random');
  if (bytes.every((b) => b >= 0x20 && b <= 0x7e)) weak('it is printable text, not random bytes');
}

/**
 * Reads and validates a key list: at least one key, each from `key` or `env`, of `length` bytes,
 * strong, ids well formed and unique, no key material twice. Throws `InvalidEncryptionKeyError`
 * whose `path` points at the offending entry (`keys[1].env`).
 */
export function readEncryptionKeys(
  inputs: unknown, options: { length: number; requireId: boolean }, env: NodeJS.ProcessEnv = process.env,
): EncryptionKey[] {
  if (!Array.isArray(inputs) || inputs.length === 0) {
    throw new InvalidEncryptionKeyError('at least one key is required (newest first: keys[0] encrypts, every key decrypts)', 'keys');
  }
  const keys: EncryptionKey[] = [];
  inputs.forEach((input: unknown, i) => {
    const at = `keys[${i}]`;
    if (input === null || typeof input !== 'object' || input instanceof Uint8Array) {
      throw new InvalidEncryptionKeyError('must be an object { id, key } or { id, env }', at);
    }
    const { id, key, env: variable, ...rest } = input as EncryptionKeyInput & Record<string, unknown>;
    const unknown = Object.keys(rest)[0];
    if (unknown !== undefined) throw new InvalidEncryptionKeyError('is not a known option (use id, key or env)', `${at}.${unknown}`);
    if (id === undefined ? options.requireId : typeof id !== 'string' || !KEY_ID.test(id)) {
      throw new InvalidEncryptionKeyError('must be 1-32 letters, digits, "_", "-" or "." (it is written into every ciphertext)', `${at}.id`);
    }
    const keyId = id ?? `#${i}`;
    if (keys.some((k) => k.id === keyId)) throw new InvalidEncryptionKeyError(`key id "${keyId}" is used twice`, `${at}.id`);
    let material: unknown = key;
    let field = 'key';
    if (variable !== undefined) {
      field = 'env';
      if (key !== undefined) throw new InvalidEncryptionKeyError('give either key or env, not both', at);
      if (typeof variable !== 'string' || variable === '') throw new InvalidEncryptionKeyError('must be the name of an environment variable', `${at}.env`);
      material = env[variable];
      if (material === undefined || material === '') {
        throw new InvalidEncryptionKeyError(`environment variable ${variable} is not set or empty`, `${at}.env`);
      }
    } else if (key === undefined) {
      throw new InvalidEncryptionKeyError('is missing: give key (base64 or hex) or env (an environment variable holding it)', `${at}.key`);
    }
    let bytes: Buffer;
    try {
      bytes = decodeKeyMaterial(material, options.length);
      assertStrongKey(bytes);
    } catch (error) {
      const reason = (error as InvalidEncryptionKeyError).reason;
      throw new InvalidEncryptionKeyError(field === 'env' ? `environment variable ${variable as string} ${reason}` : reason, `${at}.${field}`);
    }
    const twin = keys.find((k) => k.bytes.equals(bytes));
    if (twin !== undefined) throw new InvalidEncryptionKeyError(`is the same key as "${twin.id}"`, `${at}.${field}`);
    keys.push({ id: keyId, bytes });
  });
  return keys;
}
