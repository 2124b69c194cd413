import { InvalidKeyError } from '../errors/invalid-key.error';
import { assertValidKey } from './assert-valid-key';

const NAMESPACE = 'users';
const MAX = 16;

function rejection(key: unknown, maxLength = MAX): InvalidKeyError {
  try {
    assertValidKey(key, NAMESPACE, maxLength);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidKeyError);
    return error as InvalidKeyError;
  }
  throw new Error(`assertValidKey(${JSON.stringify(key)}) did not throw`);
}

describe('assertValidKey', () => {
  describe('accepts', () => {
    it.each([
      ['a plain key', 'user:42'],
      ['a single character', 'x'],
      ['unicode text', 'café-日本-🙂'],
      ['a Redis hash tag', '{tag}:x'],
      ['a glob character', 'a*b'],
      ['spaces and punctuation', 'a b/c?d=e&f'],
    ])('%s', (_label, key) => {
      expect(() => assertValidKey(key, NAMESPACE, 64)).not.toThrow();
    });

    it('a key of exactly maxLength characters', () => {
      expect(() => assertValidKey('k'.repeat(MAX), NAMESPACE, MAX)).not.toThrow();
    });
  });

  describe('rejects', () => {
    it.each([
      ['a number', 42],
      ['undefined', undefined],
      ['null', null],
      ['an object', { id: 1 }],
      ['an array', ['a']],
    ])('%s', (_label, key) => {
      expect(rejection(key).code).toBe('CACHE_INVALID_KEY');
    });

    it('the empty string', () => {
      expect(rejection('').reason).toMatch(/empty/);
    });

    it('a key of maxLength + 1 characters', () => {
      expect(rejection('k'.repeat(MAX + 1)).reason).toContain(String(MAX));
    });

    it.each([
      ['NUL', '\u0000', '0000'],
      ['newline', '\n', '000a'],
      ['tab', '\t', '0009'],
      ['DEL', '\u007f', '007f'],
      ['NEL (C1)', '\u0085', '0085'],
    ])('a key holding %s', (_label, char, hex) => {
      expect(rejection(`ab${char}cd`).reason).toContain(`U+${hex}`);
    });
  });

  describe('unpaired surrogates', () => {
    it.each([
      ['a lone high surrogate', 'user:\ud800', 5],
      ['a lone low surrogate', '\udc00:user', 0],
      ['a reversed pair', 'a\udc00\ud800', 1],
    ])('rejects %s (Redis would store it as U+FFFD, merging distinct keys)', (_label, key, position) => {
      expect(rejection(key).reason).toContain(`unpaired UTF-16 surrogate at position ${position}`);
    });

    it('accepts a proper surrogate pair', () => {
      expect(() => assertValidKey('user:\ud83c\udfb5', NAMESPACE, 64)).not.toThrow();
    });
  });

  describe('error message', () => {
    const secret = 'secret-user-42';

    it.each([
      ['a control character', `${secret}\n`],
      ['an over-long key', `${secret}-${'x'.repeat(64)}`],
    ])('for %s names the namespace and leaves the key out', (_label, key) => {
      const error = rejection(key, 32);
      expect(error.namespace).toBe(NAMESPACE);
      expect(error.message).toContain(`"${NAMESPACE}"`);
      expect(error.message).not.toContain(secret);
    });
  });
});
