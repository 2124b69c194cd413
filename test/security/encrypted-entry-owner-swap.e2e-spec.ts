/**
 * Threat: someone who can write to the app's Redis, and is also a user of the app, copies another
 * user's encrypted entry of a namespace scoped per user onto their own key (`u:alice:profile` →
 * `u:eve:profile`) and asks the app for their own profile: were the ciphertext not bound to the key
 * it was written under, the app would decrypt Alice's profile for Eve. AES-GCM binds every entry to
 * its namespace and stored key (owner included); Fernet tokens are bound only with
 * `bindContext: true`, so a scoped namespace refuses Fernet without it at start-up.
 */
import { randomBytes } from 'node:crypto';
import { CanActivate, Controller, ExecutionContext, Get, Injectable, UseGuards } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { CacheModule, CacheModuleOptions, CacheService, Fernet, InvalidOptionsError, NamespaceEncryptionOptions } from 'nest-cachekit';
import request from 'supertest';
import { useRedisServer } from '../support/redis-server';

@Injectable()
class HeaderAuthGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest();
    if (typeof req.headers['x-user'] === 'string') req.user = { id: req.headers['x-user'] };
    return true;
  }
}

@Controller('profile')
@UseGuards(HeaderAuthGuard)
class ProfileController {
  constructor(private readonly cache: CacheService) {}

  @Get()
  show() {
    return this.cache.namespace('profiles').getOrSet('profile', async () => ({ loadedFor: 'the caller', at: Date.now(), secret: randomBytes(8).toString('hex') }));
  }
}

describe('an encrypted entry copied in Redis onto another owner\'s key', () => {
  const redis = useRedisServer({ flushBeforeEach: true });

  const options = (encryption: NamespaceEncryptionOptions): CacheModuleOptions => ({
    redis: { url: redis.server.url },
    namespaces: { profiles: { backend: 'redis', scope: 'user', encryption } },
  });

  async function start(encryption: NamespaceEncryptionOptions) {
    const moduleRef = await Test.createTestingModule({ imports: [CacheModule.forRoot(options(encryption))], controllers: [ProfileController], providers: [HeaderAuthGuard] }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    return app;
  }

  it.each([
    ['aes-256-gcm', { keys: [{ id: 'k1', key: randomBytes(32).toString('base64') }] }],
    ['fernet with bindContext', { provider: 'fernet', bindContext: true, keys: [{ key: Fernet.generateKey() }] }],
  ] as [string, NamespaceEncryptionOptions][])('%s: never opens Alice\'s entry as Eve\'s', async (_name, encryption) => {
    const app = await start(encryption);
    try {
      const get = (user: string) => request(app.getHttpServer()).get('/profile').set('x-user', user).expect(200);
      const alice = (await get('alice')).body;
      expect((await get('alice')).body).toEqual(alice); // cached
      const keys = await redis.admin.keys('*');
      const aliceKey = keys.find((k) => k.includes('u:alice:'))!;
      expect(aliceKey).toBeDefined();
      // Eve copies Alice's entry (value and all) onto the key of her own profile.
      await redis.admin.set(aliceKey.replace('u:alice:', 'u:eve:'), (await redis.admin.getBuffer(aliceKey))!);
      const eve = (await get('eve')).body;
      expect(eve.secret).not.toBe(alice.secret);
      expect(app.get(CacheService).namespace('profiles').stats().tamperDetected).toBe(1);
    } finally {
      await app.close();
    }
  });

  it('refuses Fernet without bindContext in a namespace scoped per user or tenant, naming the field', async () => {
    for (const bindContext of [undefined, false]) {
      const start = Test.createTestingModule({
        imports: [CacheModule.forRoot(options({ provider: 'fernet', keys: [{ key: Fernet.generateKey() }], ...(bindContext === false && { bindContext }) }))],
      }).compile();
      await expect(start).rejects.toThrow(InvalidOptionsError);
      await expect(start).rejects.toThrow('namespaces.profiles.encryption.bindContext');
    }
    const viaDefaults = Test.createTestingModule({
      imports: [CacheModule.forRoot({
        redis: { url: redis.server.url },
        defaults: { encryption: { provider: 'fernet', keys: [{ key: Fernet.generateKey() }] } },
        namespaces: { profiles: { backend: 'redis', scope: 'tenant' }, shared: { backend: 'redis' } },
      })],
    }).compile();
    await expect(viaDefaults).rejects.toThrow('namespaces.profiles.encryption.bindContext');
  });
});
