import { InvalidKeyError } from '../errors/invalid-key.error';
import { canonicalKey } from './canonical-key';
import { scopedKey } from './scoped-key';

describe('canonicalKey', () => {
  it('returns ASCII keys as they are, and every other key in NFC', () => {
    const key = 'user:42:top-tracks';
    expect(canonicalKey(key, 'ns', 100)).toBe(key);
    expect(canonicalKey('cafe\u0301', 'ns', 100)).toBe('caf\u00e9');
    expect(canonicalKey('\u212b', 'ns', 100)).toBe('\u00c5'); // ANGSTROM SIGN → Å
    expect(canonicalKey('日本-🙂', 'ns', 100)).toBe('日本-🙂');
  });

  it.each([
    ['a zero-width space', 'a\u200bb', '200B'],
    ['a zero-width joiner', 'a\u200db', '200D'],
    ['a right-to-left override', 'a\u202eb', '202E'],
    ['a byte order mark', '\ufeffab', 'FEFF'],
    ['a soft hyphen', 'a\u00adb', '00AD'],
    ['a line separator', 'a\u2028b', '2028'],
  ])('refuses %s', (_what, key, hex) => {
    expect(() => canonicalKey(key, 'ns', 100)).toThrow(InvalidKeyError);
    expect(() => canonicalKey(key, 'ns', 100)).toThrow(`invisible character U+${hex}`);
  });

  it('keeps assertValidKey\'s rules (type, length, controls) and applies the ascii charset', () => {
    expect(() => canonicalKey(42, 'ns', 100)).toThrow('expected a string, got number');
    expect(() => canonicalKey('a\nb', 'ns', 100)).toThrow('control character U+000a');
    expect(() => canonicalKey('abc', 'ns', 2)).toThrow('over the limit of 2');
    expect(canonicalKey('SKU 42/x', 'ns', 100, 'ascii')).toBe('SKU 42/x');
    expect(() => canonicalKey('caf\u00e9', 'ns', 100, 'ascii')).toThrow('holds U+00E9 at position 3');
    expect(() => canonicalKey('t\u200b', 'ns', 100, 'unicode', 'tag')).toThrow('Invalid cache tag in namespace "ns"');
  });
});

describe('scopedKey', () => {
  it('encodes the owner so that no owner/key split can be forged', () => {
    expect(scopedKey('user', 'a:b', 'c')).toBe('u:a%3Ab:c');
    expect(scopedKey('user', 'a', 'b:c')).toBe('u:a:b:c');
    expect(scopedKey('tenant', 'acme', 'k')).toBe('t:acme:k');
    expect(scopedKey('user', '%3A', 'k')).toBe('u:%253A:k');
    expect(scopedKey('user', '\ud800', 'k')).toBeUndefined();
    expect(scopedKey('user', { id: '1', tenant: 'acme' }, 'k')).toBe('u:1@acme:k');
    expect(scopedKey('user', { id: '1@acme' }, 'k')).toBe('u:1%40acme:k');
    expect(scopedKey('user', { id: '1', tenant: 'a@b' }, 'k')).toBe('u:1@a%40b:k');
    expect(scopedKey('tenant', { id: 'acme' }, 'k')).toBe('t:acme:k');
    const pairs: [string, string][] = [['a:b', 'c'], ['a', 'b:c'], ['a%3Ab', 'c'], ['a', 'u:a:b:c'], ['', 'a:c']];
    expect(new Set(pairs.map(([owner, key]) => scopedKey('user', owner, key))).size).toBe(pairs.length);
  });
});
