import { randomBytes } from 'node:crypto';
import { AesGcmEncryptionProvider } from './aes-gcm-encryption-provider';
import { DecryptionFailedError } from './decryption-failed.error';
import { InvalidEncryptionKeyError } from './invalid-encryption-key.error';
import { XChaCha20Poly1305EncryptionProvider } from './xchacha20-poly1305-encryption-provider';

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

describe('XChaCha20Poly1305EncryptionProvider', () => {
  const k1 = key();
  const provider = new XChaCha20Poly1305EncryptionProvider({ keys: [{ id: 'k1', key: k1 }] });

  it('round-trips text and bytes; the payload is version 0x02, key id, a 24-byte nonce, ciphertext and tag, and hides the text', () => {
    const text = JSON.stringify({ history: ['t1', 't2'], name: 'Zoë' });
    const payload = provider.encrypt(text, ctx);
    expect(payload).toMatch(/^[A-Za-z0-9_-]+$/);
    const bytes = Buffer.from(payload, 'base64url');
    expect(bytes[0]).toBe(0x02);
    expect(bytes.toString('latin1', 2, 2 + bytes[1])).toBe('k1');
    expect(bytes.length).toBe(2 + 2 + 24 + Buffer.byteLength(text) + 16);
    expect(bytes.includes(Buffer.from('history'))).toBe(false);
    expect(provider.decrypt(payload, ctx)).toEqual({ plaintext: text, stale: false, keyId: 'k1' });
    const sealed = provider.encryptBytes(Buffer.from(text), ctx);
    expect(Buffer.from(provider.decryptBytes(sealed, ctx).plaintext).toString()).toBe(text);
  });

  it('binds the namespace and the cache key (with the separator between them)', () => {
    const payload = provider.encrypt('"v"', ctx);
    expect(reason(() => provider.decrypt(payload, { ...ctx, key: 'spotify:user:124' }))).toBe('authentication-failed');
    expect(reason(() => provider.decrypt(payload, { ...ctx, namespace: 'admins' }))).toBe('authentication-failed');
    const split = provider.encrypt('"v"', { namespace: 'ab', key: 'c' });
    expect(reason(() => provider.decrypt(split, { namespace: 'a', key: 'bc' }))).toBe('authentication-failed');
    const long = { namespace: 'users', key: `${'ü'.repeat(400)}:a` };
    expect(reason(() => provider.decrypt(provider.encrypt('"v"', long), { ...long, key: `${'ü'.repeat(400)}:b` }))).toBe('authentication-failed');
  });

  it('refuses any flipped bit, truncation, extension, an AES-256-GCM payload, an unknown key id, and garbage', () => {
    const bytes = provider.encryptBytes(Buffer.from('"some value"'), ctx);
    for (let i = 0; i < bytes.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const altered = Buffer.from(bytes);
        altered[i] ^= bit;
        expect(() => provider.decryptBytes(altered, ctx)).toThrow(DecryptionFailedError);
      }
    }
    for (let cut = 1; cut < bytes.length; cut += 3) expect(() => provider.decryptBytes(bytes.subarray(0, bytes.length - cut), ctx)).toThrow(DecryptionFailedError);
    expect(reason(() => provider.decryptBytes(Buffer.concat([bytes, Buffer.from([0])]), ctx))).toBe('authentication-failed');
    const aes = new AesGcmEncryptionProvider({ keys: [{ id: 'k1', key: k1 }] });
    expect(reason(() => provider.decrypt(aes.encrypt('"v"', ctx), ctx))).toBe('unknown-version');
    expect(reason(() => provider.decryptBytes(new XChaCha20Poly1305EncryptionProvider({ keys: [{ id: 'k9', key: key() }] }).encryptBytes(Buffer.from('1'), ctx), ctx))).toBe('unknown-key');
    expect(reason(() => provider.decryptBytes(new XChaCha20Poly1305EncryptionProvider({ keys: [{ id: 'k1', key: key() }] }).encryptBytes(Buffer.from('1'), ctx), ctx))).toBe('authentication-failed');
    expect(reason(() => provider.decrypt('not base64url!', ctx))).toBe('malformed');
    expect(reason(() => provider.decrypt('{"role":"admin"}', ctx))).toBe('malformed');
    expect(reason(() => provider.decryptBytes(bytes.subarray(0, 12), ctx))).toBe('malformed');
  });

  it('opens payloads of any size in any order (the plaintext buffer grows and is reused)', () => {
    const big = 'x'.repeat(100_000);
    const a = provider.encrypt(big, ctx);
    const b = provider.encrypt('"small"', ctx);
    expect(provider.decrypt(a, ctx).plaintext).toBe(big);
    expect(provider.decrypt(b, ctx).plaintext).toBe('"small"');
    expect(provider.decrypt(a, ctx).plaintext).toBe(big);
  });

  it('rotates: the newest key seals, older keys still open (reported stale), removed keys do not', () => {
    const k2 = key();
    const old = provider.encrypt('"old"', ctx);
    const rotated = new XChaCha20Poly1305EncryptionProvider({ keys: [{ id: 'k2', key: k2 }, { id: 'k1', key: k1 }] });
    expect(rotated.currentKeyId).toBe('k2');
    expect(rotated.decrypt(old, ctx)).toEqual({ plaintext: '"old"', stale: true, keyId: 'k1' });
    expect(rotated.decrypt(rotated.encrypt('"new"', ctx), ctx)).toEqual({ plaintext: '"new"', stale: false, keyId: 'k2' });
    expect(reason(() => new XChaCha20Poly1305EncryptionProvider({ keys: [{ id: 'k2', key: k2 }] }).decrypt(old, ctx))).toBe('unknown-key');
  });

  it('draws a fresh random 192-bit nonce for every payload (no counter: nothing to carry across restarts)', () => {
    const nonces = new Set<string>();
    for (let i = 0; i < 2000; i++) nonces.add(provider.encryptBytes(Buffer.from('"same"'), ctx).toString('hex', 4, 28));
    expect(nonces.size).toBe(2000);
    // Two providers on the same key (two processes) never start from the same nonce either.
    const other = new XChaCha20Poly1305EncryptionProvider({ keys: [{ id: 'k1', key: k1 }] });
    expect(nonces.has(other.encryptBytes(Buffer.from('"same"'), ctx).toString('hex', 4, 28))).toBe(false);
  });

  it('refuses to start without a strong key, naming the field', () => {
    expect(() => new XChaCha20Poly1305EncryptionProvider({ keys: [{ id: 'k1', key: randomBytes(16).toString('base64') }] })).toThrow(InvalidEncryptionKeyError);
    expect(() => new XChaCha20Poly1305EncryptionProvider({ keys: [{ key: key() }] })).toThrow(/keys\[0\]/);
  });
});
