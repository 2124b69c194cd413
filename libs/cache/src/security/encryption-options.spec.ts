import { randomBytes } from 'node:crypto';
import { InvalidOptionsError } from '../errors/invalid-options.error';
import { CacheModuleOptions } from '../options/cache-module-options.interface';
import { resolveCacheOptions } from '../options/resolve-cache-options';
import { AesGcmEncryptionProvider } from './aes-gcm-encryption-provider';
import { FernetEncryptionProvider } from './fernet-encryption-provider';

const key = randomBytes(32).toString('base64');

function problemsOf(options: CacheModuleOptions): string[] {
  try {
    resolveCacheOptions(options);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionsError);
    return (error as InvalidOptionsError).problems.map((p) => `${p.path}: ${p.reason}`);
  }
  throw new Error('expected the options to be rejected');
}

describe('encryption options', () => {
  it('builds one provider for defaults.encryption, shared by the namespaces inheriting it; own settings and false win', () => {
    const resolved = resolveCacheOptions({
      defaults: { encryption: { keys: [{ id: 'k1', key }] } },
      namespaces: { a: {}, b: {}, c: { encryption: false }, d: { encryption: { enabled: false } }, e: { encryption: { provider: 'fernet', keys: [{ key }], reencryptOnRead: true } } },
    }).namespaces;
    expect(resolved.get('a')!.encryption!.provider).toBeInstanceOf(AesGcmEncryptionProvider);
    expect(resolved.get('b')!.encryption!.provider).toBe(resolved.get('a')!.encryption!.provider);
    expect(resolved.get('c')!.encryption).toBeUndefined();
    expect(resolved.get('d')!.encryption).toBeUndefined();
    expect(resolved.get('e')!.encryption).toMatchObject({ reencryptOnRead: true });
    expect(resolved.get('e')!.encryption!.provider).toBeInstanceOf(FernetEncryptionProvider);
  });

  it('reports a bad inherited key once, under defaults', () => {
    expect(problemsOf({ defaults: { encryption: { keys: [{ id: 'k1', key: 'c2hvcnQ=' }] } }, namespaces: { a: {}, b: {} } }))
      .toEqual(['defaults.encryption.keys[0].key: must decode to 32 bytes (it decodes to 5); generate one with `openssl rand -base64 32` or `node -e "console.log(require(\'crypto\').randomBytes(32).toString(\'base64\'))"`']);
  });

  it.each([
    [{ namespaces: { a: { encryption: { kyes: [] } } } }, /^namespaces\.a\.encryption\.kyes: is not a known option/],
    [{ namespaces: { a: { encryption: { keys: [] } } } }, /^namespaces\.a\.encryption\.keys: at least one key is required/],
    [{ namespaces: { a: { encryption: {} } } }, /^namespaces\.a\.encryption\.keys: at least one key is required/],
    [{ namespaces: { a: { encryption: { keys: [{ id: 'k', key }], reencryptOnRead: 'yes' } } } }, /^namespaces\.a\.encryption\.reencryptOnRead: must be a boolean/],
    [{ namespaces: { a: { encryption: { provider: 'fernet', keys: [{ key }], ttlSeconds: 0 } } } }, /^namespaces\.a\.encryption\.ttlSeconds: must not be less than 1/],
    [{ namespaces: { a: { encryption: 'on' } } }, /^namespaces\.a\.encryption: must be an object/],
    [{ encryptionProviders: { fernet: new AesGcmEncryptionProvider({ keys: [{ id: 'k', key }] }) } }, /^encryptionProviders\.fernet: "fernet" is a built-in provider name/],
  ])('rejects %j', (options, expected) => {
    expect(problemsOf(options as CacheModuleOptions)).toEqual(expect.arrayContaining([expect.stringMatching(expected)]));
  });

  it('never echoes key material, even when a key is passed where the list belongs', () => {
    const message = problemsOf({ namespaces: { a: { encryption: { keys: key as never } }, b: { encryption: { keys: [{ id: 'x', key: key.slice(0, 20) }] } } } }).join('\n');
    expect(message).toMatch(/namespaces\.a\.encryption\.keys: must be an array/);
    expect(message).toMatch(/namespaces\.b\.encryption\.keys\[0\]\.key/);
    expect(message).not.toContain(key.slice(0, 20));
  });
});
