/**
 * Threat: keys built from client-supplied arguments. A route parameter interpolated into a
 * `@Cacheable` key template must never span a separator of the template (so `user:{id}` with id
 * `alice:orders` can neither read nor plant the entry of `user:{id}:orders` for alice), and an
 * argument that cannot make a valid key (control or invisible characters, over `maxKeyLength`) must
 * never turn a request into a 500: template values are percent-encoded (so those characters make a
 * valid, distinct key), and a key that is still invalid (too long, or from a default or function key)
 * makes the method run without the cache, counted in `stats().invalidKeyBypasses` and logged without
 * the key. On the memory backend and on a real redis-server.
 */
import { Controller, Delete, Get, INestApplication, Injectable, LoggerService, Param, Put, Query } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import Redis from 'ioredis';
import { CacheEvict, CacheModule, CacheModuleOptions, CachePut, CacheService, Cacheable } from 'nest-cachekit';
import request from 'supertest';
import { RedisServer, startRedisServer } from '../support/redis-server';

const MAX_KEY_LENGTH = 64;

class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  log(message: unknown) { this.lines.push(String(message)); }
  error(message: unknown) { this.lines.push(String(message)); }
  warn(message: unknown) { this.lines.push(String(message)); }
  debug(message: unknown) { this.lines.push(String(message)); }
  verbose(message: unknown) { this.lines.push(String(message)); }
}

/** Each user's profile and orders: what must never reach another user. */
@Injectable()
class AccountsService {
  loads = 0;
  readonly ran: string[] = [];

  @Cacheable({ namespace: 'accounts', key: 'user:{id}' })
  async profile(id: string): Promise<{ kind: string; owner: string; load: number }> {
    return { kind: 'profile', owner: id, load: ++this.loads };
  }

  @Cacheable({ namespace: 'accounts', key: 'user:{id}:orders' })
  async orders(id: string): Promise<{ kind: string; owner: string; load: number }> {
    return { kind: 'orders', owner: id, load: ++this.loads };
  }

  /** The default key: `AccountsService.search("…")`. */
  @Cacheable({ namespace: 'accounts' })
  async search(q: string): Promise<{ q: string; load: number }> {
    return { q, load: ++this.loads };
  }

  @CachePut({ namespace: 'accounts', key: 'user:{id}', tags: ['owner:{id}'] })
  async rename(id: string): Promise<{ kind: string; owner: string; load: number }> {
    this.ran.push('rename');
    return { kind: 'profile', owner: id, load: ++this.loads };
  }

  @CacheEvict({ namespace: 'accounts', key: 'user:{id}', tags: ['owner:{id}'] })
  async forget(id: string): Promise<{ forgotten: number }> {
    this.ran.push('forget');
    return { forgotten: id.length };
  }
}

@Controller()
class AccountsController {
  constructor(private readonly accounts: AccountsService) {}

  @Get('users/:id')
  profile(@Param('id') id: string) {
    return this.accounts.profile(id);
  }

  @Get('users/:id/orders')
  orders(@Param('id') id: string) {
    return this.accounts.orders(id);
  }

  @Put('users/:id')
  rename(@Param('id') id: string) {
    return this.accounts.rename(id);
  }

  @Delete('users/:id')
  forget(@Param('id') id: string) {
    return this.accounts.forget(id);
  }

  @Get('search')
  search(@Query('q') q: string) {
    return this.accounts.search(q);
  }
}

describe.each(['memory', 'redis'] as const)('key injection through decorated methods on the %s backend', (backend) => {
  let app: INestApplication;
  let cache: CacheService;
  let accounts: AccountsService;
  let redis: RedisServer | undefined;
  let raw: Redis | undefined;
  const logger = new CapturingLogger();

  beforeAll(async () => {
    if (backend === 'redis') {
      redis = await startRedisServer();
      raw = new Redis(redis.port, '127.0.0.1');
    }
    const options: CacheModuleOptions = {
      keyPrefix: 'ki:',
      ...(redis ? { redis: { url: redis.url }, defaults: { backend: 'redis' } } : {}),
      namespaces: { accounts: { maxKeyLength: MAX_KEY_LENGTH } },
    };
    const moduleRef = await Test.createTestingModule({
      imports: [CacheModule.forRoot(options)],
      controllers: [AccountsController],
      providers: [AccountsService],
    }).compile();
    app = moduleRef.createNestApplication({ logger });
    await app.init();
    cache = app.get(CacheService);
    accounts = app.get(AccountsService);
  });

  afterAll(async () => {
    await app.close();
    raw?.disconnect();
    await redis?.stop();
  });

  const get = (path: string) => request(app.getHttpServer()).get(path);
  const bypasses = () => cache.namespace('accounts').stats().invalidKeyBypasses;

  it('an id holding the separator cannot read the entry of another template (user:{id} with "alice:orders")', async () => {
    const orders = await get('/users/alice/orders').expect(200);
    expect(orders.body).toMatchObject({ kind: 'orders', owner: 'alice' });

    const attack = await get('/users/alice%3Aorders').expect(200);
    expect(attack.body).toMatchObject({ kind: 'profile', owner: 'alice:orders' });
    expect(attack.body.load).not.toBe(orders.body.load);
    // Alice's entry is still hers, and the crafted id has an entry of its own.
    expect((await get('/users/alice/orders').expect(200)).body).toEqual(orders.body);
    expect((await get('/users/alice%3Aorders').expect(200)).body).toEqual(attack.body);
  });

  it('an id holding the separator cannot plant an entry that the victim\'s own request then reads', async () => {
    const planted = await get('/users/bob%3Aorders').expect(200);
    expect(planted.body).toMatchObject({ kind: 'profile', owner: 'bob:orders' });

    const victim = await get('/users/bob/orders').expect(200);
    expect(victim.body).toMatchObject({ kind: 'orders', owner: 'bob' });
  });

  it('stores an interpolated value percent-encoded, so that it never holds a separator', async () => {
    await get('/users/carol%3Aorders').expect(200);
    await get('/users/carol/orders').expect(200);
    const ns = cache.namespace('accounts');
    expect(await ns.get('user:carol%3Aorders')).toMatchObject({ owner: 'carol:orders' });
    expect(await ns.get('user:carol:orders')).toMatchObject({ kind: 'orders', owner: 'carol' });
    if (raw) expect((await raw.keys('ki:{accounts}:user:carol*')).sort()).toEqual(['ki:{accounts}:user:carol%3Aorders', 'ki:{accounts}:user:carol:orders']);
  });

  it('caches ids with control or invisible characters under an encoded key instead of failing with a 500', async () => {
    for (const id of ['a%0Ab', 'a%E2%80%8Bb', '%7F', 'caf%C3%A9']) {
      const first = await get(`/users/${id}`).expect(200);
      expect(first.body.owner).toBe(decodeURIComponent(id));
      const again = await get(`/users/${id}`).expect(200);
      expect(again.body).toEqual(first.body);
    }
    expect(await cache.namespace('accounts').get('user:a%0Ab')).toMatchObject({ owner: 'a\nb' });
  });

  it('runs the method without the cache for an id that makes a key over maxKeyLength, counted and logged without the id', async () => {
    const id = `secret-${'x'.repeat(MAX_KEY_LENGTH)}`;
    const before = bypasses() ?? 0;
    logger.lines.length = 0;
    const first = await get(`/users/${id}`).expect(200);
    const second = await get(`/users/${id}`).expect(200);
    expect(first.body).toMatchObject({ kind: 'profile', owner: id });
    expect(second.body.load).toBe(first.body.load + 1);
    expect(bypasses()).toBe(before + 2);
    const lines = logger.lines.filter((l) => l.startsWith('cache.invalidKey'));
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines[0]).toContain('method=AccountsService.profile');
    expect(lines[0]).toContain('reason=CACHE_INVALID_KEY');
    expect(logger.lines.join('\n')).not.toContain('secret-');
  });

  it('runs the method without the cache when a default key holds a control character', async () => {
    const before = bypasses() ?? 0;
    const first = await get('/search?q=a%7Fb').expect(200);
    const second = await get('/search?q=a%7Fb').expect(200);
    expect(first.body.q).toBe('a\u007fb');
    expect(second.body.load).toBe(first.body.load + 1);
    expect(bypasses()).toBe(before + 2);
  });

  it('@CachePut and @CacheEvict with an over-long id run the method, answer 200, and count what they could not do', async () => {
    const id = 'y'.repeat(MAX_KEY_LENGTH);
    accounts.ran.length = 0;
    const before = bypasses() ?? 0;
    await request(app.getHttpServer()).put(`/users/${id}`).expect(200);
    const forgotten = await request(app.getHttpServer()).delete(`/users/${id}`).expect(200);
    expect(forgotten.body).toEqual({ forgotten: MAX_KEY_LENGTH });
    expect(accounts.ran).toEqual(['rename', 'forget']);
    expect(bypasses()).toBe(before + 2);
  });

  it('@CachePut and @CacheEvict still address what @Cacheable stored for an id holding separators', async () => {
    const first = await get('/users/dan%3Aorders').expect(200);
    const renamed = await request(app.getHttpServer()).put('/users/dan%3Aorders').expect(200);
    expect((await get('/users/dan%3Aorders').expect(200)).body).toEqual(renamed.body);
    expect(renamed.body.load).not.toBe(first.body.load);
    await request(app.getHttpServer()).delete('/users/dan%3Aorders').expect(200);
    const reloaded = await get('/users/dan%3Aorders').expect(200);
    expect(reloaded.body.load).toBeGreaterThan(renamed.body.load);
  });
});
