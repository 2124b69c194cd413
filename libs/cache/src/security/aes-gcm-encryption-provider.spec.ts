import { randomBytes } from 'node:crypto';
import { AesGcmEncryptionProvider } from './aes-gcm-encryption-provider';
import { DecryptionFailedError } from './decryption-failed.error';
import { InvalidEncryptionKeyError } from './invalid-encryption-key.error';

const key = (): string => randomBytes(32).toString('base64');
const ctx = { namespace: 'users', key: 'spotify:user:123' };

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DecryptionFailedError);
    return (error as DecryptionFailedError).reason;
  }
  throw new Error('expected the payload to be refused');
}

describe('AesGcmEncryptionProvider', () => {
  const k1 = key();
  const provider = new AesGcmEncryptionProvider({ keys: [{ id: 'k1', key: k1 }] });

  it('round-trips text; the payload is base64url of version, key id, nonce, ciphertext and tag, and hides the text', () => {
    const text = JSON.stringify({ history: ['t1', 't2'], name: 'Zoë' });
    const payload = provider.encrypt(text, ctx);
    expect(payload).toMatch(/^[A-Za-z0-9_-]+$/);
    const bytes = Buffer.from(payload, 'base64url');
    expect(bytes[0]).toBe(0x01);
    expect(bytes.toString('latin1', 2, 2 + bytes[1])).toBe('k1');
    expect(bytes.length).toBe(2 + 2 + 12 + Buffer.byteLength(text) + 16);
    expect(bytes.includes(Buffer.from('history'))).toBe(false);
    expect(provider.decrypt(payload, ctx)).toEqual({ plaintext: text, stale: false, keyId: 'k1' });
  });

  it('binds the namespace and the cache key: the payload of one entry does not open as another', () => {
    const payload = provider.encrypt('"v"', ctx);
    expect(reason(() => provider.decrypt(payload, { ...ctx, key: 'spotify:user:124' }))).toBe('authentication-failed');
    expect(reason(() => provider.decrypt(payload, { ...ctx, namespace: 'admins' }))).toBe('authentication-failed');
    // The separator keeps "ab" + "c" apart from "a" + "bc".
    const split = provider.encrypt('"v"', { namespace: 'ab', key: 'c' });
    expect(reason(() => provider.decrypt(split, { namespace: 'a', key: 'bc' }))).toBe('authentication-failed');
  });

  it('refuses any flipped bit, truncation, extension, an unknown version or key id, and garbage', () => {
    const bytes = Buffer.from(provider.encrypt('"some value"', ctx), 'base64url');
    for (let i = 0; i < bytes.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const altered = Buffer.from(bytes);
        altered[i] ^= bit;
        expect(() => provider.decrypt(altered.toString('base64url'), ctx)).toThrow(DecryptionFailedError);
      }
    }
    for (let cut = 1; cut < bytes.length; cut += 3) {
      expect(() => provider.decrypt(bytes.subarray(0, bytes.length - cut).toString('base64url'), ctx)).toThrow(DecryptionFailedError);
    }
    expect(reason(() => provider.decrypt(Buffer.concat([bytes, Buffer.from([0])]).toString('base64url'), ctx))).toBe('authentication-failed');
    const v2 = Buffer.from(bytes);
    v2[0] = 0x02;
    expect(reason(() => provider.decrypt(v2.toString('base64url'), ctx))).toBe('unknown-version');
    const otherId = Buffer.from(bytes);
    otherId.write('k9', 2, 'latin1');
    expect(reason(() => provider.decrypt(otherId.toString('base64url'), ctx))).toBe('unknown-key');
    expect(reason(() => provider.decrypt('{"plain":"json"}', ctx))).toBe('malformed');
    expect(reason(() => provider.decrypt('', ctx))).toBe('malformed');
  });

  it('binds long and non-ASCII keys in full (the AAD is never cut short, whatever its length)', () => {
    // Keys that differ only in their last character, past any fixed-size buffer.
    for (const length of [200, 300, 5_000]) {
      const a = { namespace: 'users', key: 'k'.repeat(length) + 'a' };
      const b = { namespace: 'users', key: 'k'.repeat(length) + 'b' };
      const payload = provider.encrypt('"v"', a);
      expect(provider.decrypt(payload, a).plaintext).toBe('"v"');
      expect(reason(() => provider.decrypt(payload, b))).toBe('authentication-failed');
    }
    const wide = { namespace: 'nutzer-ü', key: 'schlüssel:€:😀'.repeat(40) };
    const payload = provider.encrypt('"ü"', wide);
    expect(provider.decrypt(payload, wide).plaintext).toBe('"ü"');
    expect(reason(() => provider.decrypt(payload, { ...wide, key: wide.key.slice(0, -2) }))).toBe('authentication-failed');
  });

  it('opens payloads of any size in any order: a large read leaves nothing behind for a smaller or broken one', () => {
    const texts = [10, 3_000, 5_000, 70_000, 20, 100_000, 1].map((n) => JSON.stringify('é'.repeat(n)));
    const payloads = texts.map((text) => provider.encrypt(text, ctx));
    for (const i of [0, 3, 1, 5, 2, 6, 4, 0]) expect(provider.decrypt(payloads[i], ctx).plaintext).toBe(texts[i]);
    const opened = provider.decrypt(payloads[1], ctx).plaintext;
    provider.decrypt(payloads[2], ctx);
    expect(opened).toBe(texts[1]);
    // A truncated copy of a payload just read must still fail, not be completed by leftover bytes.
    expect(() => provider.decrypt(payloads[2].slice(0, -8), ctx)).toThrow(DecryptionFailedError);
    expect(reason(() => provider.decrypt(payloads[2].slice(0, 200), ctx))).toBe('authentication-failed');
    expect(reason(() => provider.decrypt(payloads[5].slice(0, -1) + '*', ctx))).toBe('malformed');
  });

  it('refuses a payload sealed under another key that carries the same key id', () => {
    const impostor = new AesGcmEncryptionProvider({ keys: [{ id: 'k1', key: key() }] });
    expect(reason(() => provider.decrypt(impostor.encrypt('"x"', ctx), ctx))).toBe('authentication-failed');
  });

  it('rotates: the newest key seals, older keys still open (reported stale), removed keys do not', () => {
    const k2 = key();
    const rotated = new AesGcmEncryptionProvider({ keys: [{ id: 'k2', key: k2 }, { id: 'k1', key: k1 }] });
    const old = provider.encrypt('"old"', ctx);
    expect(rotated.decrypt(old, ctx)).toEqual({ plaintext: '"old"', stale: true, keyId: 'k1' });
    expect(rotated.currentKeyId).toBe('k2');
    const fresh = rotated.encrypt('"new"', ctx);
    expect(Buffer.from(fresh, 'base64url').toString('latin1', 2, 4)).toBe('k2');
    expect(rotated.decrypt(fresh, ctx)).toEqual({ plaintext: '"new"', stale: false, keyId: 'k2' });
    expect(rotated.currentKeyId).toBe('k2');
    const retired = new AesGcmEncryptionProvider({ keys: [{ id: 'k2', key: k2 }] });
    expect(reason(() => retired.decrypt(old, ctx))).toBe('unknown-key');
  });

  it('never produces the same payload twice for the same input', () => {
    const payloads = new Set(Array.from({ length: 1_000 }, () => provider.encrypt('"same"', ctx)));
    expect(payloads.size).toBe(1_000);
  });

  it('refuses to start without a strong key', () => {
    expect(() => new AesGcmEncryptionProvider({ keys: [] })).toThrow(InvalidEncryptionKeyError);
    expect(() => new AesGcmEncryptionProvider({ keys: [{ id: 'z', key: Buffer.alloc(32) }] })).toThrow(/weak/);
  });
});
