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
const GENERATE_HINT =
  'generate one with `openssl rand -base64 32` or `node -e "console.log(require(\'crypto\').randomBytes(32).toString(\'base64\'))"`';
/** Strict UTF-8: a byte sequence that is not valid UTF-8 throws. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });
/** A control character other than tab, line feed and carriage return. */
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;

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
    if (bytes.length !== length) throw new InvalidEncryptionKeyError(`must decode to ${length} bytes (it decodes to ${bytes.length}); ${GENERATE_HINT}`);
    if (!isCanonicalBase64(text, bytes)) throw new InvalidEncryptionKeyError(`is not base64 as an encoder writes it (typed by hand: a passphrase?); ${GENERATE_HINT}`);
    return bytes;
  }
  throw new InvalidEncryptionKeyError(`must be ${length} bytes written as base64 (standard or url-safe) or as ${length * 2} hex digits; ${GENERATE_HINT}`);
}

/**
 * Refuses keys that are obviously not random: one repeated byte (all zero…), a short pattern
 * repeated, few distinct byte values, or text (a passphrase where a key belongs: `echo pass | base64`
 * gives one, trailing newline and all). A random 32-byte key fails one of these with a probability
 * of about 2e-11 (mostly the text test: strict UTF-8 without control characters other than tab and
 * line breaks; printable ASCII alone would be 2e-14, but would let passphrases with an accent or a
 * newline through).
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
  if (isText(bytes)) weak('it decodes to text (a passphrase?), not random bytes');
}

/**
 * Whether `text` is what an encoder writes for `bytes` (standard or url-safe alphabet, padded or
 * not). The unused low bits of a last partial group are zero in every encoder's output; text typed
 * by a person has them set three times in four (when its length leaves a partial group).
 */
function isCanonicalBase64(text: string, bytes: Buffer): boolean {
  const unpadded = text.replace(/=+$/, '');
  const padding = text.length - unpadded.length;
  if (padding !== 0 && padding !== (4 - (unpadded.length % 4)) % 4) return false;
  return unpadded === bytes.toString('base64url') || unpadded === bytes.toString('base64').replace(/=+$/, '');
}

/** Whether `bytes` are UTF-8 text: valid, and without control characters other than tab and line breaks. */
function isText(bytes: Buffer): boolean {
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    return false;
  }
  return !CONTROL.test(text);
}

/**
 * The problem with a secret given as text (an HMAC key such as the invalidation bus's), or
 * undefined when it is a random key: base64 (either alphabet) or hex of at least `minBytes` bytes
 * that `assertStrongKey` accepts. A passphrase is refused: its strength is a person's memory, and
 * whoever sees one signed message can guess it offline. Reasons never quote the secret.
 */
export function secretKeyProblem(secret: unknown, minBytes: number): string | undefined {
  if (typeof secret !== 'string') return `must be a string: a random key of at least ${minBytes} bytes written as base64 or hex; ${GENERATE_HINT}`;
  const text = secret.trim();
  const unpadded = text.replace(/=+$/, '');
  const hex = text.length % 2 === 0 && HEX.test(text);
  if (!hex && !(BASE64.test(text) && unpadded.length % 4 !== 1)) {
    return `must be a random key written as base64 or hex (this is neither: a passphrase?); ${GENERATE_HINT}`;
  }
  const bytes = hex ? Buffer.from(text, 'hex') : Buffer.from(unpadded, 'base64url');
  if (bytes.length < minBytes) return `must be a random key of at least ${minBytes} bytes (it decodes to ${bytes.length}); ${GENERATE_HINT}`;
  if (!hex && !isCanonicalBase64(text, bytes)) return `is not base64 as an encoder writes it (typed by hand: a passphrase?); ${GENERATE_HINT}`;
  try {
    assertStrongKey(bytes);
  } catch (error) {
    return (error as InvalidEncryptionKeyError).reason;
  }
  return undefined;
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
