import { InvalidKeyError } from '../errors/invalid-key.error';
import { assertValidKey } from './assert-valid-key';

/**
 * Which characters a key may hold, beyond `assertValidKey`'s rules (no control characters, no lone
 * surrogates): `'unicode'` (default) also refuses invisible format characters (zero-width spaces and
 * joiners, bidi overrides, the BOM, soft hyphens: Unicode category Cf) and line/paragraph separators,
 * which make two keys that look alike differ; `'ascii'` accepts printable ASCII only (U+0020-U+007E).
 */
export type KeyCharset = 'unicode' | 'ascii';
export const KEY_CHARSETS: readonly KeyCharset[] = ['unicode', 'ascii'];

const NON_ASCII = /[^\u0000-\u007f]/;
const INVISIBLE = /[\p{Cf}\u2028\u2029]/u;
const NOT_PRINTABLE_ASCII = /[^\u0020-\u007e]/;

/**
 * The one spelling under which a key is stored: validated, then Unicode NFC (so that a precomposed
 * "é" and "e" + combining accent are one key, and an invalidation of either reaches the entry), then
 * checked against the charset. Throws `InvalidKeyError`; the key itself never enters the message.
 */
export function canonicalKey(key: unknown, namespace: string, maxLength: number, charset: KeyCharset = 'unicode', what: 'key' | 'tag' = 'key'): string {
  assertValidKey(key, namespace, maxLength, what);
  if (!NON_ASCII.test(key)) return key;
  if (charset === 'ascii') {
    const bad = NOT_PRINTABLE_ASCII.exec(key)!;
    throw new InvalidKeyError(namespace, `the ${what} holds U+${hex(bad[0])} at position ${bad.index}; this namespace accepts printable ASCII only (keyCharset: 'ascii')`, what);
  }
  const normalized = key.normalize('NFC');
  const invisible = INVISIBLE.exec(normalized);
  if (invisible) {
    throw new InvalidKeyError(namespace, `the ${what} holds the invisible character U+${hex(invisible[0])} at position ${invisible.index}`, what);
  }
  if (normalized.length > maxLength) assertValidKey(normalized, namespace, maxLength, what);
  return normalized;
}

function hex(char: string): string {
  return char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
}
