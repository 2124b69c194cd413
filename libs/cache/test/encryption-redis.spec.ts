/**
 * Encryption at rest against a real redis-server: what lands in Redis, and every kind of bad entry
 * written straight into Redis (altered, truncated, sealed with an unknown key, copied from another
 * key or namespace, plaintext) is a miss, deleted, counted, and reported as a `tamper` event.
 * Then key rotation with re-encrypt-on-read, and providers supplied by the app.
 */
import { Injectable, Module } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { useRedisServer } from '../../../test/support/redis-server';
import { RedisBackend } from '../src/backends/redis/redis-backend';
import { defineCacheScripts } from '../src/backends/redis/redis-scripts';
import { CacheModule } from '../src/cache.module';
import { CacheService } from '../src/cache.service';
import { CacheEventMap } from '../src/events/cache-events';
import { CacheModuleOptions } from '../src/options/cache-module-options.interface';
import { AesGcmEncryptionProvider } from '../src/security/aes-gcm-encryption-provider';
import { DecryptedPayload, EncryptionContext, EncryptionProvider } from '../src/security/encryption-provider.interface';

const newKey = (): string => randomBytes(32).toString('base64');
const K1 = newKey();
const K2 = newKey();

interface StartedCache { moduleRef: TestingModule; cache: CacheService }

async function startCache(options: CacheModuleOptions, imports: any[] = []): Promise<StartedCache> {
  const moduleRef = await Test.createTestingModule({ imports: [...imports, CacheModule.forRoot(options)] }).compile();
  await moduleRef.init();
  return { moduleRef, cache: moduleRef.get(CacheService) };
}

describe('Encrypted namespaces on a real redis-server', () => {
  const redis = useRedisServer({ flushBeforeEach: true });
  let moduleRef: TestingModule;
  let cache: CacheService;
  let tampers: CacheEventMap['tamper'][];

  const options = (k: string = K1): CacheModuleOptions => ({
    redis: { url: redis.server.url },
    defaults: { backend: 'redis', encryption: { keys: [{ id: 'k1', key: k }] } },
    namespaces: { users: { ttl: '1h' }, admins: {}, plain: { encryption: false } },
  });

  beforeEach(async () => {
    ({ moduleRef, cache } = await startCache(options()));
    tampers = [];
    cache.events.on('tamper', (e) => tampers.push(e));
  });
  afterEach(() => moduleRef.close());

  it('stores ciphertext only (no plaintext in Redis), round-trips, and leaves an unencrypted namespace alone', async () => {
    const users = cache.namespace('users');
    await users.set('u1', { name: 'Zoë', history: ['Blue in Green'] });
    await cache.namespace('plain').set('p1', { history: ['Blue in Green'] });
    const stored = (await redis.admin.get('cache:{users}:u1'))!;
    expect(stored).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.from(stored, 'base64url').toString('latin1')).not.toContain('Blue in Green');
    expect(await redis.admin.get('cache:{plain}:p1')).toContain('Blue in Green');
    expect(await users.get('u1')).toEqual({ name: 'Zoë', history: ['Blue in Green'] });
    await users.mset([{ key: 'a', value: 1 }, { key: 'b', value: 2, tags: ['t'] }]);
    expect(await users.mget(['a', 'b', 'x'])).toEqual([1, 2, undefined]);
    expect(await users.getOrSet('c', () => 'loaded')).toBe('loaded');
    expect(await users.get('c')).toBe('loaded');
    expect(users.stats()).toMatchObject({ tamperDetected: 0 });
    expect(cache.namespace('plain').stats().tamperDetected).toBeUndefined();
  });

  const bad: [string, (good: string) => Promise<void>, string][] = [
    ['a byte altered', async (good) => {
      const bytes = Buffer.from(good, 'base64url');
      bytes[bytes.length - 20] ^= 0x04;
      await redis.admin.set('cache:{users}:victim', bytes.toString('base64url'));
    }, 'authentication-failed'],
    ['truncated', async (good) => {
      await redis.admin.set('cache:{users}:victim', good.slice(0, good.length - 10));
    }, 'authentication-failed'],
    ['cut short to its header', async (good) => {
      await redis.admin.set('cache:{users}:victim', good.slice(0, 12));
    }, 'malformed'],
    ['sealed with a key this app does not have (unknown key id)', async () => {
      const foreign = new AesGcmEncryptionProvider({ keys: [{ id: 'elsewhere', key: newKey() }] });
      await redis.admin.set('cache:{users}:victim', foreign.encrypt('"forged"', { namespace: 'users', key: 'victim' }));
    }, 'unknown-key'],
    ['sealed with another key under our key id', async () => {
      const impostor = new AesGcmEncryptionProvider({ keys: [{ id: 'k1', key: newKey() }] });
      await redis.admin.set('cache:{users}:victim', impostor.encrypt('"forged"', { namespace: 'users', key: 'victim' }));
    }, 'authentication-failed'],
    ['copied from another key of the namespace', async () => {
      await redis.admin.copy('cache:{users}:donor', 'cache:{users}:victim', 'REPLACE');
    }, 'authentication-failed'],
    ['copied from the same key of another namespace', async () => {
      await cache.namespace('admins').set('victim', { role: 'admin' });
      await redis.admin.copy('cache:{admins}:victim', 'cache:{users}:victim', 'REPLACE');
    }, 'authentication-failed'],
    ['plaintext JSON (written unencrypted, or by another program)', async () => {
      await redis.admin.set('cache:{users}:victim', '{"role":"admin"}');
    }, 'malformed'],
    ['of an unknown format version', async (good) => {
      const bytes = Buffer.from(good, 'base64url');
      bytes[0] = 0x7f;
      await redis.admin.set('cache:{users}:victim', bytes.toString('base64url'));
    }, 'unknown-version'],
  ];

  it.each(bad)('an entry %s is never returned: a miss, deleted, counted, and a tamper event', async (_what, plant, reason) => {
    const users = cache.namespace('users');
    await users.set('victim', { role: 'listener' });
    await users.set('donor', { role: 'admin' });
    await plant((await redis.admin.get('cache:{users}:victim'))!);
    expect(await users.get('victim')).toBeUndefined();
    expect(await redis.admin.exists('cache:{users}:victim')).toBe(0);
    expect(tampers).toEqual([{ namespace: 'users', key: 'victim', reason }]);
    expect(users.stats()).toMatchObject({ tamperDetected: 1, misses: 1, hits: 0 });
    expect(await users.get('donor')).toEqual({ role: 'admin' });
  });

  it('treats tampered entries in mget and getOrSet the same way (getOrSet then loads and stores afresh)', async () => {
    const users = cache.namespace('users');
    await users.mset([{ key: 'a', value: 'A' }, { key: 'b', value: 'B' }]);
    await redis.admin.copy('cache:{users}:a', 'cache:{users}:b', 'REPLACE');
    expect(await users.mget(['a', 'b'])).toEqual(['A', undefined]);
    await redis.admin.copy('cache:{users}:a', 'cache:{users}:c');
    expect(await users.getOrSet('c', () => 'C from the loader')).toBe('C from the loader');
    expect(await users.get('c')).toBe('C from the loader');
    expect(tampers.map((t) => t.key)).toEqual(['b', 'c']);
  });

  it('fails the start with the option path for a missing, short or weak key, and never echoes the key', async () => {
    const short = randomBytes(16).toString('base64');
    const start = (keys: unknown) => startCache({ redis: { url: redis.server.url }, namespaces: { users: { backend: 'redis', encryption: { keys } as never } } });
    await expect(start([{ id: 'k1', key: short }])).rejects.toThrow(/namespaces\.users\.encryption\.keys\[0\]\.key: must decode to 32 bytes/);
    await expect(start([{ id: 'k1', key: Buffer.alloc(32).toString('hex') }])).rejects.toThrow(/namespaces\.users\.encryption\.keys\[0\]\.key: is weak: every byte is 0x00/);
    await expect(start([{ id: 'k1', env: 'NEST_CACHEKIT_UNSET_KEY' }])).rejects.toThrow(/keys\[0\]\.env: environment variable NEST_CACHEKIT_UNSET_KEY is not set/);
    await expect(start(short)).rejects.toThrow(/namespaces\.users\.encryption\.keys: must be an array$/m);
    await expect(start(short)).rejects.not.toThrow(short);
  });
});

describe('Key rotation with re-encrypt-on-read', () => {
  const redis = useRedisServer();
  const keyIdOf = (payload: string): string => {
    const bytes = Buffer.from(payload, 'base64url');
    return bytes.toString('latin1', 2, 2 + bytes[1]);
  };
  const withKeys = (keys: { id: string; key: string }[], reencryptOnRead: boolean): CacheModuleOptions => ({
    redis: { url: redis.server.url },
    namespaces: { users: { backend: 'redis', ttl: '1h', encryption: { keys, reencryptOnRead } } },
  });

  it('reads old entries after the new key is added, re-seals them with the newest key keeping TTL and tags, and only when asked', async () => {
    const before = await startCache(withKeys([{ id: 'k1', key: K1 }], false));
    await before.cache.namespace('users').set('u1', { n: 1 }, { tags: ['artist:7'] });
    await before.cache.namespace('users').set('u2', { n: 2 });
    await before.moduleRef.close();
    await redis.admin.pexpire('cache:{users}:u1', 1_000_000);

    const noMigration = await startCache(withKeys([{ id: 'k2', key: K2 }, { id: 'k1', key: K1 }], false));
    expect(await noMigration.cache.namespace('users').get('u2')).toEqual({ n: 2 });
    expect(keyIdOf((await redis.admin.get('cache:{users}:u2'))!)).toBe('k1');
    await noMigration.moduleRef.close();

    const after = await startCache(withKeys([{ id: 'k2', key: K2 }, { id: 'k1', key: K1 }], true));
    const users = after.cache.namespace('users');
    expect(await users.get('u1')).toEqual({ n: 1 });
    const resealed = (await redis.admin.get('cache:{users}:u1'))!;
    expect(keyIdOf(resealed)).toBe('k2');
    const pttl = await redis.admin.pttl('cache:{users}:u1');
    expect(pttl).toBeGreaterThan(900_000);
    expect(pttl).toBeLessThanOrEqual(1_000_000);
    expect(await users.get('u1')).toEqual({ n: 1 });
    expect(await redis.admin.get('cache:{users}:u1')).toBe(resealed); // fresh entries are not re-sealed again
    expect(await users.invalidateTag('artist:7')).toBe(1);
    await users.set('u3', 3);
    expect(keyIdOf((await redis.admin.get('cache:{users}:u3'))!)).toBe('k2');
    await after.moduleRef.close();

    // Once the old key is retired, what it sealed is refused.
    const retired = await startCache(withKeys([{ id: 'k2', key: K2 }], false));
    const reasons: string[] = [];
    retired.cache.events.on('tamper', (e) => reasons.push(e.reason));
    expect(await retired.cache.namespace('users').get('u2')).toBeUndefined();
    expect(reasons).toEqual(['unknown-key']);
    await retired.moduleRef.close();
  });

  it('never overwrites a value written between the read and the re-seal', async () => {
    const client = defineCacheScripts(new Redis(redis.server.port, '127.0.0.1'));
    const backend = new RedisBackend(client, 'cache:{race}:', 'race');
    await backend.set('k', 'old-payload', 60_000);
    expect(await backend.replaceIfUnchanged('k', 'old-payload', 'resealed')).toBe(true);
    expect(await redis.admin.get('cache:{race}:k')).toBe('resealed');
    expect(await redis.admin.pttl('cache:{race}:k')).toBeGreaterThan(50_000);
    await backend.set('k', 'newer-write', 0);
    expect(await backend.replaceIfUnchanged('k', 'resealed', 'stale-reseal')).toBe(false);
    expect(await redis.admin.get('cache:{race}:k')).toBe('newer-write');
    expect(await backend.replaceIfUnchanged('missing', 'x', 'y')).toBe(false);
    expect(await redis.admin.exists('cache:{race}:missing')).toBe(0);
    client.disconnect();
  });
});

/** A provider of the app's own (here: AES-GCM under a key that a "KMS" module hands out). */
@Injectable()
class KeyServiceEncryptionProvider implements EncryptionProvider {
  readonly name = 'key-service';
  calls = 0;
  private readonly inner = new AesGcmEncryptionProvider({ keys: [{ id: 'kms-1', key: K2 }] });
  encrypt(plaintext: string, context: EncryptionContext): string {
    this.calls++;
    return this.inner.encrypt(plaintext, context);
  }
  decrypt(payload: string, context: EncryptionContext): DecryptedPayload {
    this.calls++;
    return this.inner.decrypt(payload, context);
  }
}

@Module({ providers: [{ provide: EncryptionProvider, useClass: KeyServiceEncryptionProvider }], exports: [EncryptionProvider] })
class KeyServiceModule {}

describe('Encryption providers supplied by the app', () => {
  const redis = useRedisServer();

  it('injects one through forRootAsync (EncryptionProvider token) and uses it for the namespaces naming it', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [CacheModule.forRootAsync({
        imports: [KeyServiceModule],
        inject: [EncryptionProvider],
        useFactory: (kms: EncryptionProvider) => ({
          redis: { url: redis.server.url },
          encryptionProviders: { kms },
          namespaces: { users: { backend: 'redis', encryption: { provider: 'kms' } } },
        }),
        namespaces: ['users'],
      })],
    }).compile();
    await moduleRef.init();
    const kms = moduleRef.get<KeyServiceEncryptionProvider>(EncryptionProvider, { strict: false });
    const users = moduleRef.get(CacheService).namespace('users');
    await users.set('u1', 'secret');
    expect(await users.get('u1')).toBe('secret');
    expect(kms.calls).toBe(2);
    expect(Buffer.from((await redis.admin.get('cache:{users}:u1'))!, 'base64url').toString('latin1', 2, 7)).toBe('kms-1');
    await moduleRef.close();
  });

  it('instantiates a registered class with DI; entries stay bound to their namespace under the shared provider', async () => {
    const started = await startCache({
      redis: { url: redis.server.url },
      encryptionProviders: { kms: KeyServiceEncryptionProvider },
      defaults: { backend: 'redis', encryption: { provider: 'kms' } },
      namespaces: { a: {}, b: {} },
    });
    await started.cache.namespace('a').set('k', 1);
    await started.cache.namespace('b').set('k', 2);
    await redis.admin.copy('cache:{a}:k', 'cache:{b}:k', 'REPLACE');
    expect(await started.cache.namespace('b').get('k')).toBeUndefined();
    expect(await started.cache.namespace('a').get('k')).toBe(1);
    await started.moduleRef.close();
  });

  it('refuses unknown provider names, keys given to a custom provider, and objects that are not providers', async () => {
    await expect(startCache({ redis: { url: redis.server.url }, namespaces: { a: { backend: 'redis', encryption: { provider: 'vault' } } } }))
      .rejects.toThrow(/namespaces\.a\.encryption\.provider: unknown encryption provider "vault"/);
    await expect(startCache({ encryptionProviders: { kms: new KeyServiceEncryptionProvider() }, namespaces: { a: { encryption: { provider: 'kms', keys: [{ id: 'x', key: K1 }] } } } }))
      .rejects.toThrow(/namespaces\.a\.encryption\.keys: are for the built-in providers/);
    await expect(startCache({ encryptionProviders: { kms: {} as never } }))
      .rejects.toThrow(/encryptionProviders\.kms: must be an EncryptionProvider/);
    await expect(startCache({ namespaces: { a: { encryption: { keys: [{ id: 'x', key: K1 }], bindContext: true } } } }))
      .rejects.toThrow(/namespaces\.a\.encryption\.bindContext: applies to provider "fernet" only/);
  });
});

const BUS_SECRET = newKey();

describe('Tiered namespaces (L1 + Redis L2) with encryption', () => {
  const redis = useRedisServer({ flushBeforeEach: true });
  /** The sealed body of an L2 payload: after the tier's `\x1e<times>\x1e` envelope. */
  const bodyOf = (payload: string): string => payload.slice(payload.indexOf('\u001e', 1) + 1);
  const keyIdOf = (payload: string): string => {
    const bytes = Buffer.from(bodyOf(payload), 'base64url');
    return bytes.toString('latin1', 2, 2 + bytes[1]);
  };
  const tiered = (keys: { id: string; key: string }[], reencryptOnRead = false): CacheModuleOptions => ({
    redis: { url: redis.server.url },
    bus: { secret: BUS_SECRET },
    namespaces: { users: { backend: 'redis', ttl: '1h', l1: {}, encryption: { keys, reencryptOnRead } } },
  });
  /** Two instances under one key (a writes, b reads), and b's tamper events; both closed whatever `body` does. */
  const withTwoInstances = async (body: (a: StartedCache, b: StartedCache, tampers: CacheEventMap['tamper'][]) => Promise<void>): Promise<void> => {
    const a = await startCache(tiered([{ id: 'k1', key: K1 }]));
    const b = await startCache(tiered([{ id: 'k1', key: K1 }]));
    const tampers: CacheEventMap['tamper'][] = [];
    b.cache.events.on('tamper', (e) => tampers.push(e));
    try {
      await body(a, b, tampers);
    } finally {
      await a.moduleRef.close();
      await b.moduleRef.close();
    }
  };

  it('seals the L2 payload (no plaintext in Redis); another instance opens it from L2', () => withTwoInstances(async (a, b) => {
    await a.cache.namespace('users').set('u1', { history: ['Blue in Green'] });
    await a.cache.namespace('users').mset([{ key: 'u2', value: { history: ['So What'] } }]);
    for (const key of ['u1', 'u2']) {
      const stored = (await redis.admin.get(`cache:{users}:${key}`))!;
      expect(stored.charCodeAt(0)).toBe(0x1e);
      expect(bodyOf(stored)).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(Buffer.from(bodyOf(stored), 'base64url').toString('latin1')).not.toMatch(/Blue in Green|So What/);
      expect(keyIdOf(stored)).toBe('k1');
    }
    expect(await b.cache.namespace('users').get('u1')).toEqual({ history: ['Blue in Green'] });
    expect(b.cache.namespace('users').stats()).toMatchObject({ tamperDetected: 0, tiers: { l2: { hits: 1 } } });
  }));

  it('a body copied from another key in L2 is a miss on the instance that reads it, deleted, and a tamper event', () => withTwoInstances(async (a, b, tampers) => {
    await a.cache.namespace('users').set('victim', { role: 'listener' });
    await a.cache.namespace('users').set('donor', { role: 'admin' });
    await redis.admin.copy('cache:{users}:donor', 'cache:{users}:victim', 'REPLACE');
    expect(await b.cache.namespace('users').get('victim')).toBeUndefined();
    expect(tampers).toEqual([{ namespace: 'users', key: 'victim', reason: 'authentication-failed' }]);
    expect(await redis.admin.exists('cache:{users}:victim')).toBe(0);
    expect(b.cache.namespace('users').stats().tamperDetected).toBe(1);
    expect(await b.cache.namespace('users').get('donor')).toEqual({ role: 'admin' });
  }));

  it('authenticates the envelope too: an entry whose logical expiry was forged, or whose envelope was stripped, is a tamper', () => withTwoInstances(async (a, b, tampers) => {
    await a.cache.namespace('users').set('short', { role: 'listener' }, { ttl: '1s' });
    await a.cache.namespace('users').set('stripped', { role: 'listener' });
    const stored = (await redis.admin.get('cache:{users}:short'))!;
    // Push the logical expiry a year out (stale would look fresh), keeping the sealed body as it was.
    const forged = `\u001e${(Date.now() + 365 * 86_400_000).toString(36)}\u001e${bodyOf(stored)}`;
    await redis.admin.set('cache:{users}:short', forged, 'KEEPTTL');
    await redis.admin.set('cache:{users}:stripped', bodyOf((await redis.admin.get('cache:{users}:stripped'))!), 'KEEPTTL');
    expect(await b.cache.namespace('users').get('short')).toBeUndefined();
    expect(await b.cache.namespace('users').get('stripped')).toBeUndefined();
    expect(tampers.map((t) => [t.key, t.reason])).toEqual([['short', 'authentication-failed'], ['stripped', 'authentication-failed']]);
    expect(await redis.admin.exists('cache:{users}:short', 'cache:{users}:stripped')).toBe(0);
  }));

  it('re-seals an L2 body sealed with an older key, keeping the envelope and the TTL', async () => {
    const before = await startCache(tiered([{ id: 'k1', key: K1 }]));
    await before.cache.namespace('users').set('u1', { n: 1 });
    await before.moduleRef.close();
    const old = (await redis.admin.get('cache:{users}:u1'))!;
    const after = await startCache(tiered([{ id: 'k2', key: K2 }, { id: 'k1', key: K1 }], true));
    try {
      expect(await after.cache.namespace('users').get('u1')).toEqual({ n: 1 });
      const resealed = (await redis.admin.get('cache:{users}:u1'))!;
      expect(keyIdOf(resealed)).toBe('k2');
      expect(resealed.slice(0, old.indexOf('\u001e', 1) + 1)).toBe(old.slice(0, old.indexOf('\u001e', 1) + 1));
      expect(await redis.admin.pttl('cache:{users}:u1')).toBeGreaterThan(3_000_000);
    } finally {
      await after.moduleRef.close();
    }
  });
});
