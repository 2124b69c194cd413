/**
 * sodium-native is an optional dependency: without it the library loads and serves caches (AES-256-GCM
 * included), and a configuration that asks for `xchacha20-poly1305` fails the start with a typed
 * `InvalidOptionsError` naming the field. The module is made unloadable for this test only.
 */
import { randomBytes } from 'node:crypto';

describe('sodium-native not installed', () => {
  it('the library still serves caches, and asking for xchacha20-poly1305 is an InvalidOptionsError naming the field', async () => {
    await jest.isolateModulesAsync(async () => {
      jest.doMock('sodium-native', () => {
        throw new Error("Cannot find module 'sodium-native'");
      });
      /* eslint-disable @typescript-eslint/no-require-imports */
      const lib = require('../src/index') as typeof import('../src/index');
      const { resolveCacheOptions } = require('../src/options/resolve-cache-options') as typeof import('../src/options/resolve-cache-options');
      const { NestFactory } = require('@nestjs/core') as typeof import('@nestjs/core');
      /* eslint-enable @typescript-eslint/no-require-imports */
      const keys = [{ id: 'k1', key: randomBytes(32).toString('base64') }];
      const app = await NestFactory.createApplicationContext(lib.CacheModule.forRoot({ namespaces: { users: {} } }), { logger: false });
      await app.get(lib.CacheService).namespace('users').set('u1', 1);
      expect(await app.get(lib.CacheService).namespace('users').get('u1')).toBe(1);
      await app.close();
      const aes = new lib.AesGcmEncryptionProvider({ keys });
      expect(aes.decrypt(aes.encrypt('"v"', { namespace: 'n', key: 'k' }), { namespace: 'n', key: 'k' }).plaintext).toBe('"v"');

      let error: unknown;
      try {
        resolveCacheOptions({ redis: { url: 'redis://127.0.0.1:9' }, namespaces: { users: { backend: 'redis', encryption: { provider: 'xchacha20-poly1305', keys } } } });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(lib.InvalidOptionsError);
      expect((error as Error).message).toMatch(/namespaces\.users\.encryption\.provider: "xchacha20-poly1305" needs the optional package sodium-native/);
      expect(() => new lib.XChaCha20Poly1305EncryptionProvider({ keys })).toThrow(lib.InvalidArgumentError);
    });
  });
});
