/**
 * Threat: a secret that is a passphrase, not a random key. Whoever sees one ciphertext (an entry in
 * Redis) or one signed bus message can test guesses offline, as fast as a GPU hashes; a passphrase
 * falls to a dictionary, and then every entry can be read, or every instance's L1 told to drop or
 * keep entries at will. The module refuses such secrets at start-up (`InvalidOptionsError` naming
 * the field and saying how to make a real key), without echoing them.
 */
import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { CacheModule, CacheModuleOptions, CacheService, InvalidOptionsError } from 'nest-cachekit';
import { randomBytes } from 'node:crypto';
import { useRedisServer } from '../support/redis-server';

const randomKey = (): string => randomBytes(32).toString('base64');
const base64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

/** Passphrases as people turn them into "keys", each 32 bytes once decoded where it decodes at all. */
const PASSPHRASE_KEYS: [string, string][] = [
  ['base64 of printable text', base64('correct horse battery staple 123')],
  ['`echo … | base64` (the trailing newline included)', base64('correct horse battery staple 12\n')],
  ['base64 of a UTF-8 passphrase with accents', base64('contraseña del caché ¡segura!')],
  ['hex of a passphrase', Buffer.from('Tr0ub4dor&3-horse-battery-stapl!').toString('hex')],
  // Typed by hand in base64's alphabet: 43 characters decode to 32 bytes, but no encoder ends so.
  ['a passphrase typed in base64\'s alphabet', 'CorrectHorseBatteryStapleIsMyKeyForTheCachf'],
];

async function startFailure(options: CacheModuleOptions): Promise<{ error: InvalidOptionsError; logs: string[] }> {
  const logs: string[] = [];
  const logger = { log: (m: unknown) => logs.push(String(m)), error: (m: unknown) => logs.push(String(m)), warn: (m: unknown) => logs.push(String(m)), debug: () => undefined, verbose: () => undefined };
  let app: INestApplication | undefined;
  try {
    const moduleRef = await Test.createTestingModule({ imports: [CacheModule.forRoot(options)] }).setLogger(logger).compile();
    app = moduleRef.createNestApplication({ logger });
    await app.init();
  } catch (error) {
    await app?.close();
    expect(error).toBeInstanceOf(InvalidOptionsError);
    return { error: error as InvalidOptionsError, logs };
  }
  await app.close();
  throw new Error('the application started');
}

describe('weak secrets are refused at start-up', () => {
  const redis = useRedisServer();

  describe.each(PASSPHRASE_KEYS)('an encryption key that is %s', (_form, key) => {
    it.each(['aes-256-gcm', 'fernet'])('is refused (%s), naming the field and how to make a key, never echoing it', async (provider) => {
      const { error, logs } = await startFailure({
        redis: { url: redis.server.url },
        namespaces: { invoices: { backend: 'redis', encryption: { provider, keys: [{ id: 'k1', key }] } } },
      });
      expect(error.problems.map((p) => p.path)).toEqual(['namespaces.invoices.encryption.keys[0].key']);
      expect(error.problems[0].reason).toMatch(/^is weak: it decodes to text \(a passphrase\?\)|^is not base64 as an encoder writes it/);
      expect(error.message).toMatch(/openssl rand -base64 32/);
      expect(error.message).toContain("require('crypto').randomBytes(32).toString('base64')");
      for (const text of [error.message, ...logs]) expect(text).not.toContain(key);
    });
  });

  describe('the invalidation bus secret', () => {
    const tiered = (secret: unknown): CacheModuleOptions => ({
      redis: { url: redis.server.url },
      bus: { secret: secret as string, heartbeat: '100ms' },
      namespaces: { users: { backend: 'redis', l1: { maxEntries: 100 } } },
    });

    it.each([
      ['a passphrase', 'correct horse battery staple and a few more words'],
      ...PASSPHRASE_KEYS,
      ['a random key that is too short', randomBytes(16).toString('base64')],
    ])('is refused when it is %s', async (_form, secret) => {
      const { error, logs } = await startFailure(tiered(secret));
      expect(error.problems.map((p) => p.path)).toEqual(['bus.secret']);
      expect(error.message).toMatch(/bus\.secret: .*openssl rand -base64 32/);
      for (const text of [error.message, ...logs]) expect(text).not.toContain(secret);
    });

    it('is refused for the weak one of a rotation pair, by its index', async () => {
      const { error } = await startFailure(tiered([randomKey(), base64('correct horse battery staple 12\n')]));
      expect(error.problems.map((p) => p.path)).toEqual(['bus.secret[1]']);
    });

    it('accepts random keys (base64 and hex, two for rotation) and the tier works with them', async () => {
      const moduleRef = await Test.createTestingModule({
        imports: [CacheModule.forRoot(tiered([randomKey(), randomBytes(48).toString('hex')]))],
      }).compile();
      const app = moduleRef.createNestApplication({ logger: false });
      await app.init();
      try {
        const users = app.get(CacheService).namespace('users');
        await users.set('u1', { name: 'Ada' });
        expect(await users.get('u1')).toEqual({ name: 'Ada' });
      } finally {
        await app.close();
      }
    });
  });

  it('accepts random encryption keys in every form an encoder writes', async () => {
    const bytes = randomBytes(32);
    for (const key of [bytes.toString('base64'), bytes.toString('base64url'), bytes.toString('hex'), `${bytes.toString('base64')}\n`]) {
      const moduleRef = await Test.createTestingModule({
        imports: [CacheModule.forRoot({ redis: { url: redis.server.url }, namespaces: { invoices: { backend: 'redis', encryption: { keys: [{ id: 'k1', key }] } } } })],
      }).compile();
      const app = moduleRef.createNestApplication({ logger: false });
      await app.init();
      await app.close();
    }
  });
});
