import { InvalidKeyError } from '../errors/invalid-key.error';

// C0 controls, DEL and C1 controls: invisible in logs and redis-cli, and a classic injection vector.
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;
// Lone surrogates all encode to the same UTF-8 bytes (EF BF BD), so two such keys would be one in Redis.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Throws `InvalidKeyError` unless `key` is a non-empty string of at most `maxLength` characters without control characters. */
export function assertValidKey(key: unknown, namespace: string, maxLength: number, what: 'key' | 'tag' = 'key'): asserts key is string {
  if (typeof key !== 'string') {
    throw new InvalidKeyError(namespace, `expected a string, got ${key === null ? 'null' : typeof key}`, what);
  }
  if (key.length === 0) throw new InvalidKeyError(namespace, `the ${what} is empty`, what);
  if (key.length > maxLength) {
    throw new InvalidKeyError(namespace, `the ${what} is ${key.length} characters long, over the limit of ${maxLength}`, what);
  }
  const control = CONTROL_CHARACTER.exec(key);
  if (control) {
    const hex = control[0].charCodeAt(0).toString(16).padStart(4, '0');
    throw new InvalidKeyError(namespace, `the ${what} holds the control character U+${hex} at position ${control.index}`, what);
  }
  const lone = LONE_SURROGATE.exec(key);
  if (lone) {
    throw new InvalidKeyError(namespace, `the ${what} holds an unpaired UTF-16 surrogate at position ${lone.index}, which Redis would store as U+FFFD`, what);
  }
}

/** Tags follow the key rules, up to 256 characters (a scoped namespace's owner prefix comes on top). */
export const MAX_TAG_LENGTH = 256;
