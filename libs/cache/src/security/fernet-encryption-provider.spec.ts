import { DecryptionFailedError } from './decryption-failed.error';
import { Fernet } from './fernet/fernet';
import { FernetEncryptionProvider } from './fernet-encryption-provider';

const ctx = { namespace: 'history', key: 'u1' };

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DecryptionFailedError);
    return (error as DecryptionFailedError).reason;
  }
  throw new Error('expected the token to be refused');
}

describe('FernetEncryptionProvider', () => {
  const current = Fernet.generateKey();
  const previous = Fernet.generateKey();

  it('writes plain Fernet tokens of the text, which Fernet itself opens', () => {
    const provider = new FernetEncryptionProvider({ keys: [{ key: current }] });
    const token = provider.encrypt('{"plays":["t1"]}', ctx);
    expect(new Fernet(current).decrypt(token).toString()).toBe('{"plays":["t1"]}');
    expect(provider.decrypt(token, ctx)).toEqual({ plaintext: '{"plays":["t1"]}', stale: false, keyId: '#0' });
  });

  it('behaves as MultiFernet: the first key encrypts, later ones decrypt and are reported stale', () => {
    const provider = new FernetEncryptionProvider({ keys: [{ key: current }, { key: previous }] });
    const old = new Fernet(previous).encrypt('"old"');
    expect(provider.decrypt(old, ctx)).toEqual({ plaintext: '"old"', stale: true, keyId: '#1' }); // keys without an id are named by position
    expect(provider.currentKeyId).toBe('#0');
    expect(new Fernet(current).decrypt(provider.encrypt('"new"', ctx)).toString()).toBe('"new"');
    expect(reason(() => new FernetEncryptionProvider({ keys: [{ key: current }] }).decrypt(old, ctx))).toBe('authentication-failed');
  });

  it('refuses malformed and altered tokens, and tokens older than ttlSeconds', () => {
    const provider = new FernetEncryptionProvider({ keys: [{ key: current }], ttlSeconds: 60 });
    expect(reason(() => provider.decrypt('not a token', ctx))).toBe('malformed');
    expect(reason(() => provider.decrypt('{"plays":[]}', ctx))).toBe('malformed');
    const bytes = Buffer.from(provider.encrypt('"x"', ctx), 'base64url');
    bytes[40] ^= 1;
    expect(reason(() => provider.decrypt(bytes.toString('base64url'), ctx))).toBe('authentication-failed');
    const stale = new Fernet(current).encryptAtTime('"x"', Math.floor(Date.now() / 1000) - 61);
    expect(reason(() => provider.decrypt(stale, ctx))).toBe('expired');
    const fresh = new Fernet(current).encryptAtTime('"x"', Math.floor(Date.now() / 1000) - 30);
    expect(provider.decrypt(fresh, ctx).plaintext).toBe('"x"');
  });

  it('with bindContext, frames the text with namespace and key and refuses a token of another entry', () => {
    const provider = new FernetEncryptionProvider({ keys: [{ key: current }], bindContext: true });
    const token = provider.encrypt('"mine"', ctx);
    expect(new Fernet(current).decrypt(token).toString()).toBe('history\u0000u1\u0000"mine"');
    expect(provider.decrypt(token, ctx).plaintext).toBe('"mine"');
    expect(reason(() => provider.decrypt(token, { ...ctx, key: 'u2' }))).toBe('authentication-failed');
    expect(reason(() => provider.decrypt(token, { ...ctx, namespace: 'other' }))).toBe('authentication-failed');
    // Without binding, the same copy would open: that is what bindContext is for.
    const unbound = new FernetEncryptionProvider({ keys: [{ key: current }] });
    expect(unbound.decrypt(unbound.encrypt('"mine"', ctx), { ...ctx, key: 'u2' }).plaintext).toBe('"mine"');
  });
});
