import { randomBytes } from 'node:crypto';
import { assertStrongKey, decodeKeyMaterial, readEncryptionKeys, secretKeyProblem } from './encryption-keys';
import { InvalidEncryptionKeyError } from './invalid-encryption-key.error';

function failure(fn: () => unknown): InvalidEncryptionKeyError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidEncryptionKeyError);
    return error as InvalidEncryptionKeyError;
  }
  throw new Error('expected InvalidEncryptionKeyError');
}

describe('decodeKeyMaterial', () => {
  const key = randomBytes(32);

  it('reads hex, standard and url-safe base64 (padded or not, with a trailing newline) and raw bytes', () => {
    for (const text of [key.toString('hex'), key.toString('base64'), key.toString('base64url'), `${key.toString('base64')}\n`]) {
      expect(decodeKeyMaterial(text, 32).equals(key)).toBe(true);
    }
    expect(decodeKeyMaterial(new Uint8Array(key), 32).equals(key)).toBe(true);
  });

  it('refuses the wrong length, text that is neither form, and non-strings, naming the length but never the key', () => {
    const short = randomBytes(16).toString('base64');
    expect(failure(() => decodeKeyMaterial(short, 32)).reason).toMatch(/must decode to 32 bytes \(it decodes to 16\)/);
    expect(failure(() => decodeKeyMaterial('correct horse battery staple!!', 32)).reason).toMatch(/base64 .* or as 64 hex digits/);
    expect(failure(() => decodeKeyMaterial(randomBytes(31), 32)).reason).toMatch(/got 31 raw bytes/);
    expect(failure(() => decodeKeyMaterial(42, 32)).reason).toMatch(/must be a string/);
    expect(failure(() => decodeKeyMaterial('   ', 32)).reason).toMatch(/is empty/);
    expect(failure(() => decodeKeyMaterial(short, 32)).message).not.toContain(short);
  });

  it('refuses base64 that no encoder writes: the unused bits of the last character set (typed by hand)', () => {
    const text = key.toString('base64url'); // 43 characters: the last holds 2 unused bits, always 0
    const lastBitsSet = text.slice(0, 42) + 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.indexOf(text[42]) | 1];
    expect(Buffer.from(lastBitsSet, 'base64url').equals(key)).toBe(true); // Node reads it as the same key...
    expect(failure(() => decodeKeyMaterial(lastBitsSet, 32)).reason).toMatch(/not base64 as an encoder writes it/); // ...we do not
    expect(failure(() => decodeKeyMaterial(`${text}==`, 32)).reason).toMatch(/not base64 as an encoder writes it/); // wrong padding
  });
});

describe('secretKeyProblem (text secrets such as the bus secret)', () => {
  it('accepts random keys of at least the minimum, as base64 (either alphabet, padded or not) or hex', () => {
    for (let i = 0; i < 50; i++) {
      const bytes = randomBytes(32 + (i % 33));
      for (const text of [bytes.toString('base64'), bytes.toString('base64url'), bytes.toString('hex'), `${bytes.toString('base64')}\n`]) {
        expect(secretKeyProblem(text, 32)).toBeUndefined();
      }
    }
  });

  it.each([
    ['a passphrase', 'correct horse battery staple and more', /written as base64 or hex \(this is neither: a passphrase\?\)/],
    ['base64 of a passphrase', Buffer.from('correct horse battery staple 123').toString('base64'), /decodes to text/],
    ['`echo … | base64` of one', Buffer.from('correct horse battery staple 12\n').toString('base64'), /decodes to text/],
    ['hex of one', Buffer.from('correct horse battery staple 123').toString('hex'), /decodes to text/],
    ['a short random key', randomBytes(16).toString('base64'), /at least 32 bytes \(it decodes to 16\)/],
    ['a repeated pattern', Buffer.alloc(32, 7).toString('base64'), /every byte is 0x07/],
    ['not a string', 42, /must be a string/],
  ])('refuses %s, with how to make a key, never quoting it', (_name, secret, reason) => {
    const problem = secretKeyProblem(secret, 32);
    expect(problem).toMatch(reason);
    expect(problem).toMatch(/openssl rand -base64 32/);
    if (typeof secret === 'string') expect(problem).not.toContain(secret);
  });
});

describe('assertStrongKey', () => {
  it('accepts random keys', () => {
    for (let i = 0; i < 200; i++) assertStrongKey(randomBytes(32));
  });

  it.each([
    ['all zero', Buffer.alloc(32), /every byte is 0x00/],
    ['one repeated byte', Buffer.alloc(32, 0xab), /every byte is 0xab/],
    ['a 16-byte half twice', Buffer.concat([randomBytes(16)]).toString('hex').repeat(2), /repeats a 16-byte pattern/],
    ['a 3-byte pattern', Buffer.from('a1b2c3'.repeat(11), 'hex').subarray(0, 32), /repeats a 3-byte pattern/],
    ['printable text', Buffer.from('Tr0ub4dor&3-horse-battery-stapl!'), /decodes to text/],
    ['text ending with a newline (`echo … | base64`)', Buffer.from('correct horse battery staple 12\n'), /decodes to text/],
    ['UTF-8 text with accents', Buffer.from('contraseña del caché: ¡segura!', 'utf8'), /decodes to text/],
    ['few distinct bytes', Buffer.from([...randomBytes(32)].map((b) => [1, 2, 3, 200, 201][b % 5])), /too few distinct/],
  ])('refuses %s', (_name, key, reason) => {
    const bytes = typeof key === 'string' ? Buffer.from(key, 'hex') : key;
    expect(failure(() => assertStrongKey(bytes)).reason).toMatch(reason);
  });
});

describe('readEncryptionKeys', () => {
  const a = randomBytes(32).toString('base64');
  const b = randomBytes(32).toString('hex');

  it('reads keys from options and from the environment, newest first', () => {
    const keys = readEncryptionKeys([{ id: 'new', env: 'CACHE_KEY_NEW' }, { id: 'old', key: a }], { length: 32, requireId: true }, { CACHE_KEY_NEW: b });
    expect(keys.map((k) => k.id)).toEqual(['new', 'old']);
    expect(keys[0].bytes.toString('hex')).toBe(b);
  });

  it.each([
    [[], 'keys', /at least one key is required/],
    [[{ key: a }], 'keys[0].id', /1-32 letters/],
    [[{ id: 'has space', key: a }], 'keys[0].id', /1-32 letters/],
    [[{ id: 'k1', key: a }, { id: 'k1', key: b }], 'keys[1].id', /key id "k1" is used twice/],
    [[{ id: 'k1', key: a }, { id: 'k2', key: a }], 'keys[1].key', /is the same key as "k1"/],
    [[{ id: 'k1' }], 'keys[0].key', /is missing/],
    [[{ id: 'k1', env: 'NOT_SET_ANYWHERE' }], 'keys[0].env', /environment variable NOT_SET_ANYWHERE is not set or empty/],
    [[{ id: 'k1', env: 'WEAK' }], 'keys[0].env', /environment variable WEAK is weak: every byte is 0x00/],
    [[{ id: 'k1', key: a, env: 'WEAK' }], 'keys[0]', /either key or env/],
    [[{ id: 'k1', secret: a }], 'keys[0].secret', /not a known option/],
    [['just-a-string'], 'keys[0]', /must be an object/],
  ])('refuses %j at %s', (inputs, path, reason) => {
    const error = failure(() => readEncryptionKeys(inputs, { length: 32, requireId: true }, { WEAK: Buffer.alloc(32).toString('hex') }));
    expect(error.path).toBe(path);
    expect(error.reason).toMatch(reason);
    expect(error.message).not.toContain(a);
  });
});
