import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidEncryptionKeyError } from '../invalid-encryption-key.error';
import { Fernet } from './fernet';
import { InvalidTokenError } from './invalid-token.error';

interface Vector { token: string; now: string; secret: string; src?: string; iv?: number[]; ttl_sec?: number; desc?: string }
const vectors = (name: string): Vector[] =>
  JSON.parse(readFileSync(join(__dirname, '../../../test/fixtures/fernet-spec', `${name}.json`), 'utf8'));
const seconds = (iso: string): number => Date.parse(iso) / 1000;

describe('Fernet against the specification\'s test vectors (fernet/spec)', () => {
  it.each(vectors('generate'))('generate.json: builds exactly the token of the vector', (v) => {
    const token = new Fernet(v.secret).encryptFromParts(v.src!, seconds(v.now), Buffer.from(v.iv!));
    expect(token).toBe(v.token);
  });

  it.each(vectors('verify'))('verify.json: decrypts the token within its TTL', (v) => {
    expect(new Fernet(v.secret).decryptAtTime(v.token, v.ttl_sec, seconds(v.now)).toString()).toBe(v.src);
  });

  it.each(vectors('invalid').map((v) => [v.desc, v] as const))('invalid.json: refuses "%s"', (_desc, v) => {
    const fernet = new Fernet(v.secret);
    expect(() => fernet.decryptAtTime(v.token, v.ttl_sec, seconds(v.now))).toThrow(InvalidTokenError);
  });

  it('refuses the time-based invalid vectors for their time alone (without a TTL they open, to "" as in Python)', () => {
    for (const v of vectors('invalid').filter((x) => /TTL|clock skew/.test(x.desc!))) {
      const fernet = new Fernet(v.secret);
      expect(fernet.decryptAtTime(v.token, undefined, seconds(v.now)).toString()).toBe('');
      let caught: unknown;
      try {
        fernet.decryptAtTime(v.token, v.ttl_sec, seconds(v.now));
      } catch (error) {
        caught = error;
      }
      expect(caught).toMatchObject({ code: 'CACHE_INVALID_TOKEN', reason: 'expired' });
    }
  });
});

describe('Fernet', () => {
  it('round-trips strings and bytes with a generated key, and checks the TTL only when asked', () => {
    const key = Fernet.generateKey();
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}=$/);
    const fernet = new Fernet(key);
    const bytes = Buffer.from([0, 255, 1, 254]);
    expect(fernet.decrypt(fernet.encrypt(bytes))).toEqual(bytes);
    const token = fernet.encryptAtTime('listening history', 1_000);
    expect(token).toMatch(/^gAAAAA[A-Za-z0-9_-]+=*$/);
    expect(token.length % 4).toBe(0);
    expect(fernet.decrypt(token).toString()).toBe('listening history');
    expect(fernet.decryptAtTime(token, 100, 1_100).toString()).toBe('listening history');
    expect(() => fernet.decryptAtTime(token, 99, 1_100)).toThrow(InvalidTokenError);
    expect(fernet.extractTimestamp(token)).toBe(1_000);
  });

  it('uses a fresh IV for every token', () => {
    const fernet = new Fernet(Fernet.generateKey());
    const ivs = new Set(Array.from({ length: 500 }, () => Buffer.from(fernet.encrypt('x'), 'base64url').subarray(9, 25).toString('hex')));
    expect(ivs.size).toBe(500);
  });

  it('refuses a token of another key, a flipped bit anywhere, and garbage', () => {
    const fernet = new Fernet(Fernet.generateKey());
    const token = fernet.encrypt('secret');
    expect(() => new Fernet(Fernet.generateKey()).decrypt(token)).toThrow(InvalidTokenError);
    const raw = Buffer.from(token, 'base64url');
    for (let i = 0; i < raw.length; i++) {
      const flipped = Buffer.from(raw);
      flipped[i] ^= 0x01;
      expect(() => fernet.decrypt(flipped.toString('base64url'))).toThrow(InvalidTokenError);
    }
    for (const bad of ['', 'gA==', 'not base64!', token.slice(0, -8), `${token}AAAA`]) {
      expect(() => fernet.decrypt(bad)).toThrow(InvalidTokenError);
    }
  });

  it('accepts the key as the bytes of its text, like Python, and refuses a wrong-sized key', () => {
    const key = Fernet.generateKey();
    expect(new Fernet(Buffer.from(key)).decrypt(new Fernet(key).encrypt('a')).toString()).toBe('a');
    expect(() => new Fernet('c2hvcnQ=')).toThrow(InvalidEncryptionKeyError);
    expect(() => new Fernet('c2hvcnQ=')).toThrow(/32 url-safe base64-encoded bytes/);
  });
});
