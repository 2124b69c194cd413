import { CanActivate, Controller, ExecutionContext, Get, Injectable, Param, SetMetadata, UseGuards } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Test, TestingModule } from '@nestjs/testing';
import request from 'supertest';
import { MapBackendFactory } from '../../test/map-backend.fixture';
import { CacheModule } from '../cache.module';
import { CacheService } from '../cache.service';
import { InvalidKeyError } from '../errors/invalid-key.error';
import { UnknownNamespaceError } from '../errors/unknown-namespace.error';
import { CacheAccessControl } from '../access/cache-access-control';
import { CacheAccessDeniedError } from '../access/cache-access-denied.error';
import { CacheEvict } from './cache-evict.decorator';
import { CacheDecoratorError, defaultKey, formatCacheKey } from './cache-key';
import { CachePut } from './cache-put.decorator';
import { Cacheable } from './cacheable.decorator';

interface User { id: string; name: string }

@Injectable()
class UserRepository {
  calls = 0;
  failNext = false;

  @Cacheable({ namespace: 'users', key: 'user:{id}' })
  async findById(id: string): Promise<User> {
    this.calls++;
    await new Promise((r) => setTimeout(r, 10));
    if (this.failNext) {
      this.failNext = false;
      throw new Error('db down');
    }
    return { id, name: `User ${id}` };
  }

  @Cacheable({ namespace: 'users', key: 'profile:{user.id}:{1}' })
  async profile(user: User, lang: string): Promise<string> {
    this.calls++;
    return `${user.name} (${lang})`;
  }

  @Cacheable({ namespace: 'users', key: (q: { page: number }) => `page:${q.page}` })
  async page(q: { page: number }): Promise<number[]> {
    this.calls++;
    return [q.page];
  }

  @Cacheable({ namespace: 'users' })
  async search(filter: Record<string, unknown>): Promise<string> {
    this.calls++;
    return JSON.stringify(filter);
  }

  @Cacheable({ namespace: 'users', key: 'cond:{0}', condition: (id: string) => id !== 'live', unless: (r: string | null) => r === null })
  async maybe(id: string): Promise<string | null> {
    this.calls++;
    return id === 'missing' ? null : id;
  }

  @Cacheable({ namespace: 'users', key: 'sync:{0}' })
  double(n: number): number {
    this.calls++;
    return n * 2;
  }

  @CachePut({ namespace: 'users', key: 'user:{user.id}' })
  async save(user: User): Promise<User> {
    this.calls++;
    return user;
  }

  @CacheEvict({ namespace: 'users', key: 'user:{0}' })
  async remove(id: string, fail = false): Promise<void> {
    if (fail) throw new Error(`remove ${id} failed`);
  }

  @CacheEvict({ namespace: 'users', key: 'user:{0}', beforeInvocation: true })
  async removeFirst(id: string): Promise<void> {
    throw new Error(`cannot remove ${id}`);
  }

  @Cacheable({ namespace: 'users', key: 'tracks:{0}', tags: ['artist:{artistId}'] })
  async tracksOf(albumId: string, artistId: string): Promise<string[]> {
    this.calls++;
    return [`${artistId}/${albumId}/1`];
  }

  @CacheEvict({ namespace: 'users', tags: ['artist:{0}'] })
  async artistChanged(artistId: string): Promise<string> {
    return artistId;
  }

  @CacheEvict({ namespace: 'users', allEntries: true })
  async reset(): Promise<void> {
    return undefined;
  }
}

describe('@Cacheable, @CachePut, @CacheEvict on a provider', () => {
  let moduleRef: TestingModule;
  let repo: UserRepository;
  let users: ReturnType<CacheService['namespace']>;

  beforeEach(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [CacheModule.forRoot({ namespaces: { users: {} } })],
      providers: [UserRepository],
    }).compile();
    await moduleRef.init();
    repo = moduleRef.get(UserRepository);
    users = moduleRef.get(CacheService).namespace('users');
  });
  afterEach(() => moduleRef.close());

  it('caches under the template key and skips the call on a hit', async () => {
    expect(await repo.findById('1')).toEqual({ id: '1', name: 'User 1' });
    expect(await repo.findById('1')).toEqual({ id: '1', name: 'User 1' });
    expect(repo.calls).toBe(1);
    expect(await users.get('user:1')).toEqual({ id: '1', name: 'User 1' });
  });

  it('keeps the method name', () => {
    expect(repo.findById.name).toBe('findById');
  });

  it('runs the method once for concurrent misses, and all callers get its result', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, () => repo.findById('2')));
    expect(repo.calls).toBe(1);
    expect(new Set(results.map((r) => r.name))).toEqual(new Set(['User 2']));
  });

  it('does not cache errors', async () => {
    repo.failNext = true;
    await expect(repo.findById('3')).rejects.toThrow('db down');
    expect(await repo.findById('3')).toEqual({ id: '3', name: 'User 3' });
    expect(repo.calls).toBe(2);
  });

  it('resolves paths into arguments, function keys and a stable default key', async () => {
    await repo.profile({ id: '7', name: 'Ada' }, 'en');
    expect(await users.get('profile:7:en')).toBe('Ada (en)');
    await repo.page({ page: 4 });
    expect(await users.get('page:4')).toEqual([4]);
    await repo.search({ b: 2, a: 1 });
    await repo.search({ a: 1, b: 2 });
    expect(repo.calls).toBe(3);
    expect(await users.get('UserRepository.search({"a":1,"b":2})')).toBe('{"b":2,"a":1}');
  });

  it('honours condition (skip the cache) and unless (do not store)', async () => {
    await repo.maybe('live');
    await repo.maybe('live');
    expect(repo.calls).toBe(2);
    expect(await repo.maybe('missing')).toBeNull();
    expect(await repo.maybe('missing')).toBeNull();
    expect(repo.calls).toBe(4);
    await repo.maybe('x');
    await repo.maybe('x');
    expect(repo.calls).toBe(5);
  });

  it('keeps a synchronous method synchronous on a memory namespace', () => {
    const first = repo.double(21);
    expect(first).toBe(42);
    expect(repo.double(21)).toBe(42);
    expect(repo.calls).toBe(1);
  });

  it('@CachePut always runs the method and stores its result', async () => {
    await repo.findById('5');
    await repo.save({ id: '5', name: 'Renamed' });
    await repo.save({ id: '5', name: 'Renamed' });
    expect(repo.calls).toBe(3);
    expect(await repo.findById('5')).toEqual({ id: '5', name: 'Renamed' });
    expect(repo.calls).toBe(3);
  });

  it('@CacheEvict evicts after success, not after a failure; beforeInvocation evicts first', async () => {
    await repo.findById('6');
    await expect(repo.remove('6', true)).rejects.toThrow('remove 6 failed');
    expect(await users.has('user:6')).toBe(true);
    await repo.remove('6');
    expect(await users.has('user:6')).toBe(false);
    await repo.findById('6');
    await expect(repo.removeFirst('6')).rejects.toThrow('cannot remove 6');
    expect(await users.has('user:6')).toBe(false);
  });

  it('tags cached results with templates and evicts them by tag', async () => {
    await repo.tracksOf('al1', 'ar1');
    await repo.tracksOf('al2', 'ar1');
    await repo.tracksOf('al3', 'ar2');
    await repo.artistChanged('ar1');
    expect(await users.mget(['tracks:al1', 'tracks:al2', 'tracks:al3'])).toEqual([undefined, undefined, ['ar2/al3/1']]);
  });

  it('@CacheEvict allEntries clears the namespace', async () => {
    await repo.findById('8');
    await repo.page({ page: 1 });
    await repo.reset();
    expect(await users.mget(['user:8', 'page:1'])).toEqual([undefined, undefined]);
  });

  it('runs uncached on an instance Nest did not create', async () => {
    const plain = new UserRepository();
    await plain.findById('9');
    await plain.findById('9');
    expect(plain.calls).toBe(2);
  });
});

describe('cache decorators next to Nest\'s own metadata', () => {
  const ROLE = 'test:role';

  @Injectable()
  class RoleGuard implements CanActivate {
    constructor(private readonly reflector: Reflector) {}
    canActivate(context: ExecutionContext): boolean {
      const role = this.reflector.get<string>(ROLE, context.getHandler());
      return context.switchToHttp().getRequest().headers['x-role'] === role;
    }
  }

  @Controller('tracks')
  class TracksController {
    calls = 0;

    @Get(':id')
    @UseGuards(RoleGuard)
    @SetMetadata(ROLE, 'listener')
    @Cacheable({ key: 'track:{id}' })
    async track(@Param('id') id: string): Promise<{ id: string; call: number }> {
      return { id, call: ++this.calls };
    }

    // The cache decorator on top: it wraps a method that already carries Nest's metadata.
    @Cacheable({ key: 'plays:{id}' })
    @Get(':id/plays')
    @UseGuards(RoleGuard)
    @SetMetadata(ROLE, 'artist')
    async plays(@Param('id') id: string): Promise<{ id: string; call: number }> {
      return { id, call: ++this.calls };
    }
  }

  it('keeps route, guard and custom metadata working on a cached controller method', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [CacheModule.forRoot({})],
      controllers: [TracksController],
      providers: [RoleGuard],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    await request(app.getHttpServer()).get('/tracks/t1').expect(403);
    const first = await request(app.getHttpServer()).get('/tracks/t1').set('x-role', 'listener').expect(200);
    const second = await request(app.getHttpServer()).get('/tracks/t1').set('x-role', 'listener').expect(200);
    expect(first.body).toEqual({ id: 't1', call: 1 });
    expect(second.body).toEqual(first.body);

    await request(app.getHttpServer()).get('/tracks/t1/plays').set('x-role', 'listener').expect(403);
    const plays = await request(app.getHttpServer()).get('/tracks/t1/plays').set('x-role', 'artist').expect(200);
    const again = await request(app.getHttpServer()).get('/tracks/t1/plays').set('x-role', 'artist').expect(200);
    expect(plays.body).toEqual({ id: 't1', call: 2 });
    expect(again.body).toEqual(plays.body);
    await app.close();
  });
});

describe('cache decorator errors', () => {
  it.each([
    ['a parameter name the method does not have', () => {
      class A { @Cacheable({ key: 'user:{userId}' }) async find(id: string) { return id; } }
      return A;
    }, "@Cacheable on A.find: key template 'user:{userId}' refers to {userId}, which is not a parameter (parameters: id)"],
    ['an argument index past the parameters', () => {
      class B { @Cacheable({ key: 'x:{2}' }) async find(a: string, b: string) { return a + b; } }
      return B;
    }, "@Cacheable on B.find: key template 'x:{2}' refers to argument 2, but the method has 2 parameter(s)"],
    ['an unbalanced brace', () => {
      class C { @Cacheable({ key: 'x:{0' }) async find(a: string) { return a; } }
      return C;
    }, '@Cacheable on C.find: unbalanced brace'],
    ['an eviction with nothing to evict', () => {
      class D { @CacheEvict({}) async drop(a: string) { return a; } }
      return D;
    }, '@CacheEvict on D.drop: give key, keys, tags or allEntries: true'],
    ['@Cacheable with @CachePut', () => {
      class E { @CachePut({ key: 'k' }) @Cacheable({ key: 'k' }) async both() { return 1; } }
      return E;
    }, '@CachePut on E.both: @Cacheable and @CachePut on one method contradict each other'],
    ['an eviction on a synchronous method', () => {
      class F { @CacheEvict({ key: 'k' }) drop(): number { return 1; } }
      return F;
    }, '@CacheEvict on F.drop: the method is synchronous'],
  ])('rejects %s when the class is defined, naming the method', (_what, define, message) => {
    expect(define).toThrow(CacheDecoratorError);
    expect(define).toThrow(message);
  });

  it('fails the start when a decorator names an unknown namespace', async () => {
    @Injectable()
    class G { @Cacheable({ namespace: 'ghost' }) async load(): Promise<number> { return 1; } }
    const start = Test.createTestingModule({ imports: [CacheModule.forRoot({})], providers: [G] }).compile().then((m) => m.init());
    await expect(start).rejects.toThrow(UnknownNamespaceError);
  });

  it('fails the start when a synchronous cached method uses an asynchronous namespace', async () => {
    @Injectable()
    class H { @Cacheable({ namespace: 'remote', key: 'k' }) load(): number { return 1; } }
    const start = Test.createTestingModule({
      imports: [CacheModule.forRoot({ backends: { map: new MapBackendFactory() }, namespaces: { remote: { backend: 'map' } } })],
      providers: [H],
    }).compile().then((m) => m.init());
    await expect(start).rejects.toThrow('@Cacheable on H.load: the method is synchronous but namespace "remote" is not in memory');
  });

  it('runs the method uncached, counted, when a template placeholder is undefined at call time', async () => {
    @Injectable()
    class J { calls = 0; @Cacheable({ key: 'u:{user.id}' }) async load(user: { id?: string }): Promise<number> { return user.id === undefined ? ++this.calls : 0; } }
    const moduleRef = await Test.createTestingModule({ imports: [CacheModule.forRoot({})], providers: [J] }).compile();
    await moduleRef.init();
    expect(await moduleRef.get(J).load({})).toBe(1);
    expect(await moduleRef.get(J).load({})).toBe(2);
    expect(moduleRef.get(CacheService).namespace('default').stats().invalidKeyBypasses).toBe(2);
    await moduleRef.close();
  });

  it('derives long default keys as a hash, and refuses function arguments', () => {
    const key = defaultKey({ className: 'S', methodName: 'm' }, ['x'.repeat(300)]);
    expect(key).toMatch(/^S\.m#[\w-]{43}$/);
    expect(() => defaultKey({ className: 'S', methodName: 'm' }, [() => 1])).toThrow('@Cacheable on S.m: cannot derive a key from the arguments (an argument is a function); give a key');
  });
});

describe('keys built from the arguments', () => {
  const SHORT = 24;

  @Injectable()
  class AccountRepository {
    calls = 0;
    readonly ran: string[] = [];
    readonly seen: string[] = [];

    @Cacheable({ namespace: 'users', key: 'user:{id}', tags: ['owner:{id}'] })
    async profile(id: string | number): Promise<string> {
      this.calls++;
      return `profile of ${id}`;
    }

    @Cacheable({ namespace: 'users', key: 'user:{id}:orders', tags: ['owner:{id}'] })
    async orders(id: string): Promise<string> {
      this.calls++;
      return `orders of ${id}`;
    }

    @CachePut({ namespace: 'users', key: 'user:{id}', tags: ['owner:{id}'] })
    async rename(id: string, name: string): Promise<string> {
      this.seen.push(id);
      return `profile of ${name}`;
    }

    @CacheEvict({ namespace: 'users', key: 'user:{id}' })
    async forget(id: string): Promise<void> {
      this.ran.push(`forget ${id.length}`);
    }

    @CacheEvict({ namespace: 'users', tags: ['owner:{id}'] })
    async forgetAll(id: string): Promise<void> {
      this.ran.push(`forgetAll ${id.length}`);
    }

    @Cacheable({ namespace: 'short', key: 'k:{id}' })
    async short(id: string): Promise<number> {
      this.seen.push(id);
      return ++this.calls;
    }

    @Cacheable({ namespace: 'short', key: 'k:{id}' })
    shortSync(id: string): number {
      this.seen.push(id);
      return ++this.calls;
    }

    @Cacheable({ namespace: 'users', key: 't:{id}', tags: ['tag:{tag}'] })
    async tagged(id: string, tag: string): Promise<number> {
      this.seen.push(id, tag);
      return ++this.calls;
    }

    @Cacheable({ namespace: 'users', key: (q: string) => `q:${q}` })
    async byFunction(q: string): Promise<number> {
      this.seen.push(q);
      return ++this.calls;
    }

    @Cacheable({ namespace: 'users' })
    async byDefault(q: string): Promise<number> {
      this.seen.push(q);
      return ++this.calls;
    }

    @CachePut({ namespace: 'short', key: 'k:{id}' })
    async putShort(id: string): Promise<number> {
      this.ran.push('putShort');
      return id.length;
    }

    @CacheEvict({ namespace: 'short', key: 'k:{id}', beforeInvocation: true })
    async evictShort(id: string): Promise<number> {
      this.ran.push('evictShort');
      return id.length;
    }

    /** A method whose own work fails with an InvalidKeyError: never a reason to run it again. */
    @Cacheable({ namespace: 'users', key: 'own:{id}' })
    async failing(id: string): Promise<number> {
      this.calls++;
      throw new InvalidKeyError('elsewhere', `failed for ${id.length}`);
    }

    @Cacheable({ namespace: 'short', key: 'own:{id}' })
    failingSync(id: string): number {
      this.calls++;
      throw new InvalidKeyError('elsewhere', `failed for ${id.length}`);
    }
  }

  let moduleRef: TestingModule;
  let repo: AccountRepository;
  let cache: CacheService;
  const bypasses = (ns: string) => cache.namespace(ns).stats().invalidKeyBypasses;

  beforeEach(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [CacheModule.forRoot({ namespaces: { users: {}, short: { maxKeyLength: SHORT } } })],
      providers: [AccountRepository],
    }).compile();
    await moduleRef.init();
    repo = moduleRef.get(AccountRepository);
    cache = moduleRef.get(CacheService);
  });
  afterEach(() => moduleRef.close());

  it('keeps an id holding the separator inside its placeholder: user:{id} of "a:orders" is not user:{id}:orders of "a"', async () => {
    expect(await repo.orders('a')).toBe('orders of a');
    expect(await repo.profile('a:orders')).toBe('profile of a:orders');
    expect(await repo.orders('a')).toBe('orders of a');
    expect(repo.calls).toBe(2);
    expect(await cache.namespace('users').get('user:a%3Aorders')).toBe('profile of a:orders');
    expect(await cache.namespace('users').get(formatCacheKey('user:{id}:orders', { id: 'a' }))).toBe('orders of a');
  });

  it('@CachePut and @CacheEvict (keys and tags) address what @Cacheable stored, for any id', async () => {
    const users = cache.namespace('users');
    for (const id of ['a:b', 'a%3Ab', '100%', 'x/y z', 'caf\u00e9']) {
      await repo.profile(id);
      await repo.rename(id, 'renamed');
      expect(await users.get(formatCacheKey('user:{id}', { id }))).toBe('profile of renamed');
      expect(await repo.profile(id)).toBe('profile of renamed');
      await repo.forget(id);
      expect(await users.has(formatCacheKey('user:{id}', { id }))).toBe(false);
      await repo.orders(id);
      await repo.forgetAll(id);
      expect(await users.has(formatCacheKey('user:{id}:orders', { id }))).toBe(false);
    }
    // A decomposed spelling is the same id, as for keys passed by hand.
    await repo.profile('cafe\u0301');
    expect(await users.get('user:caf%C3%A9')).toBe('profile of cafe\u0301');
  });

  it('reads one entry for the number 42 and the string "42" (route parameters arrive as strings)', async () => {
    await repo.profile('42');
    expect(await repo.profile(42)).toBe('profile of 42');
    expect(repo.calls).toBe(1);
  });

  it('runs @Cacheable without the cache when the key is over maxKeyLength, async or sync, and counts it', async () => {
    const long = 'x'.repeat(SHORT);
    expect(await repo.short(long)).toBe(1);
    expect(await repo.short(long)).toBe(2);
    expect(repo.shortSync(long)).toBe(3);
    expect(repo.shortSync(long)).toBe(4);
    expect(bypasses('short')).toBe(4);
    expect(await repo.short('ok')).toBe(5);
    expect(await repo.short('ok')).toBe(5);
    expect(bypasses('short')).toBe(4);
  });

  it('runs without the cache when a tag, a function key or a default key is invalid', async () => {
    expect(await repo.tagged('1', 'x'.repeat(300))).toBe(1);
    expect(await repo.tagged('1', 'x'.repeat(300))).toBe(2);
    expect(await repo.byFunction('a\nb')).toBe(3);
    expect(await repo.byFunction('a\nb')).toBe(4);
    expect(await repo.byDefault('a\u200bb')).toBe(5);
    expect(await repo.byDefault('a\u200bb')).toBe(6);
    expect(bypasses('users')).toBe(6);
    // The same characters in a template value are encoded: cached.
    expect(await repo.tagged('a\nb', 'a\u200bb')).toBe(7);
    expect(await repo.tagged('a\nb', 'a\u200bb')).toBe(7);
  });

  it('@CachePut stores nothing and @CacheEvict evicts nothing for an invalid key, and both let the method finish', async () => {
    const long = 'y'.repeat(SHORT);
    expect(await repo.putShort(long)).toBe(SHORT);
    expect(await repo.evictShort(long)).toBe(SHORT);
    expect(repo.ran).toEqual(['putShort', 'evictShort']);
    expect(bypasses('short')).toBe(2);
    expect(cache.namespace('short').stats().sets).toBe(0);
  });

  it('lets an InvalidKeyError of the method itself reach the caller, without running the method again or counting it', async () => {
    await expect(repo.failing('1')).rejects.toThrow('failed for 1');
    expect(() => repo.failingSync('1')).toThrow('failed for 1');
    expect(repo.calls).toBe(2);
    expect(bypasses('users')).toBe(0);
    expect(bypasses('short')).toBe(0);
  });
});

describe('invalid keys under RBAC', () => {
  @Injectable()
  class Vault {
    calls = 0;
    readonly seen: string[] = [];

    @Cacheable({ namespace: 'vault', key: 'v:{id}' })
    async read(id: string): Promise<number> {
      this.seen.push(id);
      return ++this.calls;
    }

    @Cacheable({ namespace: 'vault', key: 'v:{id}' })
    readSync(id: string): number {
      this.seen.push(id);
      return ++this.calls;
    }
  }

  it('refuses a denied caller whatever the key: a key problem never stands in for an access decision', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [CacheModule.forRoot({
        namespaces: { vault: { maxKeyLength: 8 } },
        rbac: { enabled: true, roles: { reader: { vault: ['read', 'write'] } } },
      })],
      providers: [Vault],
    }).compile();
    await moduleRef.init();
    const vault = moduleRef.get(Vault);
    const access = moduleRef.get(CacheAccessControl);
    const long = 'z'.repeat(20);
    const eve = { id: 'eve', roles: [] };
    await expect(access.runAs(eve, () => vault.read(long))).rejects.toBeInstanceOf(CacheAccessDeniedError);
    expect(() => access.runAs(eve, () => vault.readSync(long))).toThrow(CacheAccessDeniedError);
    expect(vault.calls).toBe(0);
    const reader = { id: 'rita', roles: ['reader'] };
    expect(await access.runAs(reader, () => vault.read(long))).toBe(1);
    expect(access.runAs(reader, () => vault.readSync(long))).toBe(2);
    expect(moduleRef.get(CacheService).namespace('vault').stats().invalidKeyBypasses).toBe(2);
    await moduleRef.close();
  });
});
