/**
 * Cache-poisoning protection on the memory backend and on a real redis-server: per-user and
 * per-tenant key scoping (no separator injection between owners), NFC canonical keys, the value
 * size limit on the HTTP path, and value schemas checked on read.
 */
import { Controller, Get, INestApplication, Injectable, Param, Query, UseInterceptors } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Type } from 'class-transformer';
import { IsInt, IsString, Min, ValidateNested } from 'class-validator';
import Redis from 'ioredis';
import request from 'supertest';
import { RedisServer, startRedisServer } from '../../../test/support/redis-server';
import { CacheModule } from '../src/cache.module';
import { CacheService } from '../src/cache.service';
import { CacheEvict } from '../src/decorators/cache-evict.decorator';
import { CachePut } from '../src/decorators/cache-put.decorator';
import { Cacheable } from '../src/decorators/cacheable.decorator';
import { InvalidKeyError } from '../src/errors/invalid-key.error';
import { CacheInterceptor } from '../src/http/cache.interceptor';
import { CacheRoute } from '../src/http/cache-route.decorator';
import { CacheModuleOptions } from '../src/options/cache-module-options.interface';
import { CacheAccessControl } from '../src/access/cache-access-control';
import { CacheAccessDeniedError } from '../src/access/cache-access-denied.error';
import { TaggedJsonSerializer } from '../src/serialization/tagged-json-serializer';

class ArtistDto {
  @IsString()
  name!: string;
}

class AlbumDto {
  @IsString()
  title!: string;

  @IsInt() @Min(1900)
  year!: number;

  @ValidateNested() @Type(() => ArtistDto)
  artist!: ArtistDto;
}

@Injectable()
class LibraryService {
  loads = 0;

  /** Keyed by the album only: the namespace's user scope keeps each user's copy apart. */
  @Cacheable({ namespace: 'library', key: 'album:{id}' })
  async album(id: string): Promise<{ id: string; load: number }> {
    return { id, load: ++this.loads };
  }

  /** Side effects of the methods below, to see whether they ran. */
  readonly ran: string[] = [];

  @CachePut({ namespace: 'library', key: 'album:{id}' })
  async saveAlbum(id: string): Promise<{ id: string; load: number }> {
    this.ran.push(`save:${id}`);
    return { id, load: 0 };
  }

  @CacheEvict({ namespace: 'org', tags: ['catalog'] })
  async dropCatalog(): Promise<void> {
    this.ran.push('dropCatalog');
  }

  @Cacheable({ namespace: 'longKeys', key: '{key}' })
  async long(key: string): Promise<{ key: number; load: number }> {
    return { key: key.length, load: ++this.loads };
  }

  @CacheEvict({ namespace: 'longKeys', key: '{key}' })
  async dropLong(key: string): Promise<void> {
    this.ran.push(`dropLong:${key.length}`);
  }
}

@Controller()
@UseInterceptors(CacheInterceptor)
class PagesController {
  renders = 0;

  @Get('pages/:id')
  @CacheRoute({ namespace: 'pages', ttl: '1m', query: ['size'] })
  page(@Param('id') id: string, @Query('size') size?: string) {
    this.renders++;
    return { id, text: 'x'.repeat(Number(size ?? 10)) };
  }
}

describe.each(['memory', 'redis'] as const)('key and value protection on the %s backend', (backend) => {
  let redis: RedisServer | undefined;
  let raw: Redis | undefined;
  let app: INestApplication;
  let cache: CacheService;
  let access: CacheAccessControl;

  beforeAll(async () => {
    if (backend === 'redis') {
      redis = await startRedisServer();
      raw = new Redis(redis.port, '127.0.0.1');
    }
    const options: CacheModuleOptions = {
      keyPrefix: 'kp:',
      ...(redis ? { redis: { url: redis.url }, defaults: { backend: 'redis' } } : {}),
      namespaces: {
        library: { scope: 'user' },
        org: { scope: 'tenant' },
        longKeys: { scope: 'user', maxKeyLength: 128 },
        shared: {},
        codes: { keyCharset: 'ascii' },
        pages: { maxValueBytes: 2048 },
        albums: { valueSchema: { dto: AlbumDto } },
        albumLists: { valueSchema: { dto: AlbumDto, each: true, nullable: false } },
      },
    };
    const moduleRef = await Test.createTestingModule({
      imports: [CacheModule.forRoot({ ...options, isGlobal: true })],
      controllers: [PagesController],
      providers: [LibraryService],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    cache = app.get(CacheService);
    access = app.get(CacheAccessControl);
  });

  afterAll(async () => {
    await app.close();
    raw?.disconnect();
    await redis?.stop();
  });

  const as = <T>(id: string, fn: () => Promise<T>, tenant?: string) => access.runAs({ id, roles: [], ...(tenant ? { tenant } : {}) }, fn);

  it('keeps each user\'s entries apart in a user-scoped namespace, with no separator injection between owners', async () => {
    const library = cache.namespace('library');
    await as('a:b', () => library.set('c', 'of a:b'));
    await as('a', () => library.set('b:c', 'of a'));
    expect(await as('a:b', () => library.get('c'))).toBe('of a:b');
    expect(await as('a', () => library.get('b:c'))).toBe('of a');
    expect(await as('a', () => library.get('c'))).toBeUndefined();
    expect(await as('mallory', () => library.get('c'))).toBeUndefined();
    expect(await as('mallory', () => library.invalidate('c'))).toBe(false);
    expect(await as('a:b', () => library.has('c'))).toBe(true);
    if (raw) expect((await raw.keys('kp:{library}:*')).sort()).toEqual(['kp:{library}:u:a%3Ab:c', 'kp:{library}:u:a:b:c']);
  });

  it('scopes decorated methods by the caller too: each user gets an own copy', async () => {
    const service = app.get(LibraryService);
    const first = await as('ann', () => service.album('1'));
    const again = await as('ann', () => service.album('1'));
    const other = await as('bob', () => service.album('1'));
    expect(again).toEqual(first);
    expect(other.load).not.toBe(first.load);
  });

  it('refuses scoped operations without a principal, and tenant-scoped ones without a tenant', async () => {
    const anonymous = access.runInRequest({ headers: {} }, () => cache.namespace('library').get('c'));
    await expect(anonymous).rejects.toBeInstanceOf(CacheAccessDeniedError);
    await expect(anonymous).rejects.toThrow('namespace is scoped per user and the caller has no principal');
    await expect(as('ann', () => cache.namespace('org').set('k', 1))).rejects.toThrow('namespace is scoped per tenant and the principal has no tenant');
    await as('ann', () => cache.namespace('org').set('k', 'acme'), 'acme');
    expect(await as('bob', () => cache.namespace('org').get('k'), 'acme')).toBe('acme');
    expect(await as('ann', () => cache.namespace('org').get('k'), 'globex')).toBeUndefined();
  });

  it('scopes tags like keys: a tag invalidation reaches only the caller\'s own entries (set, mset, getOrSet)', async () => {
    const library = cache.namespace('library');
    await as('ann', () => library.set('feed', 'of ann', { tags: ['timeline'] }));
    await as('bob', () => library.set('feed', 'of bob', { tags: ['timeline'] }));
    expect(await as('bob', () => library.invalidateTag('timeline'))).toBe(1);
    expect(await as('ann', () => library.get('feed'))).toBe('of ann');
    expect(await as('bob', () => library.get('feed'))).toBeUndefined();
    await as('bob', () => library.getOrSet('feed:2', () => 'of bob', { tags: ['timeline'] }));
    await as('ann', () => library.mset([{ key: 'feed:2', value: 'of ann', tags: ['timeline'] }]));
    expect(await as('ann', () => library.invalidateTag('timeline'))).toBe(2);
    expect(await as('ann', () => library.get('feed'))).toBeUndefined();
    expect(await as('bob', () => library.get('feed:2'))).toBe('of bob');
    const org = cache.namespace('org');
    await as('ann', () => org.set('price', 1, { tags: ['catalog'] }), 'acme');
    expect(await as('eve', () => org.invalidateTag('catalog'), 'globex')).toBe(0);
    expect(await as('bob', () => org.get('price'), 'acme')).toBe(1);
    expect(await as('bob', () => org.invalidateTag('catalog'), 'acme')).toBe(1);
  });

  it('refuses tag invalidations and clear without a principal, and tag invalidations without a tenant; clear stays namespace-wide', async () => {
    const library = cache.namespace('library');
    const org = cache.namespace('org');
    const anonymous = <T>(fn: () => Promise<T>) => access.runInRequest({ headers: {} }, fn);
    await as('ann', () => library.set('kept', 1, { tags: ['timeline'] }));
    await as('ann', () => org.set('kept', 1), 'acme');
    for (const call of [() => library.invalidateTag('timeline'), () => library.clear()]) {
      const denied = anonymous(call);
      await expect(denied).rejects.toBeInstanceOf(CacheAccessDeniedError);
      await expect(denied).rejects.toThrow('namespace is scoped per user and the caller has no principal');
    }
    await expect(as('ann', () => org.invalidateTag('catalog'))).rejects.toThrow('namespace is scoped per tenant and the principal has no tenant');
    expect(await as('ann', () => library.get('kept'))).toBe(1);
    // clear picks no owner: a principal without a tenant (an ops job) clears every tenant's entries.
    expect(await as('ops', () => org.clear())).toBeGreaterThanOrEqual(1);
    expect(await as('ann', () => org.get('kept'), 'acme')).toBeUndefined();
  });

  it('refuses a decorated @CachePut/@CacheEvict before the method runs when the scope rules refuse the caller', async () => {
    const service = app.get(LibraryService);
    service.ran.length = 0;
    const anonymous = access.runInRequest({ headers: {} }, () => service.saveAlbum('7'));
    await expect(anonymous).rejects.toThrow('namespace is scoped per user and the caller has no principal');
    await expect(as('ann', () => service.dropCatalog())).rejects.toThrow('namespace is scoped per tenant and the principal has no tenant');
    expect(service.ran).toEqual([]);
    await as('ann', () => service.saveAlbum('7'));
    await as('ann', () => service.dropCatalog(), 'acme');
    expect(service.ran).toEqual(['save:7', 'dropCatalog']);
  });

  it('bounds the key the caller passes by maxKeyLength, the owner prefix coming on top, on every path', async () => {
    const service = app.get(LibraryService);
    const user = '6f1c1d2e-8b7a-4c3d-9e0f-1a2b3c4d5e6f';
    const key = 'k'.repeat(100); // u:<uuid>:<key> is 139 characters, over maxKeyLength 128
    const first = await as(user, () => service.long(key));
    expect(await as(user, () => service.long(key))).toEqual(first);
    await as(user, () => service.dropLong(key)); // @CacheEvict → invalidate, after @Cacheable stored via getOrSet
    expect(await as(user, () => service.long(key))).not.toEqual(first);
    const ns = cache.namespace('longKeys');
    await as(user, async () => {
      await ns.set(key, 'v', { tags: ['t'.repeat(256)] });
      expect(await ns.get(key)).toBe('v');
      expect(await ns.has(key)).toBe(true);
      expect(await ns.getOrSet(key, () => 'loaded')).toBe('v');
      await ns.mset([{ key: `${key.slice(1)}2`, value: 'w' }]);
      expect(await ns.mget([key, `${key.slice(1)}2`])).toEqual(['v', 'w']);
      expect(await ns.invalidate(key)).toBe(true);
      expect(await ns.invalidateTag('t'.repeat(256))).toBe(0);
    });
    const over = 'k'.repeat(129);
    for (const call of [() => ns.set(over, 1), () => ns.get(over), () => ns.getOrSet(over, () => 1), () => ns.invalidate(over), () => ns.mget([over])]) {
      await expect(as(user, call)).rejects.toThrow(InvalidKeyError);
    }
    await expect(as(user, () => ns.set(key, 1, { tags: ['t'.repeat(257)] }))).rejects.toThrow('over the limit of 256');
  });

  it('stores one NFC spelling: a composed and a decomposed key are one entry, on reads, writes and invalidations', async () => {
    const shared = cache.namespace('shared');
    const composed = 'caf\u00e9';
    const decomposed = 'cafe\u0301';
    await shared.set(decomposed, 'espresso');
    expect(await shared.get(composed)).toBe('espresso');
    expect(await shared.get(decomposed)).toBe('espresso');
    expect(await shared.mget([composed, decomposed])).toEqual(['espresso', 'espresso']);
    expect(await shared.getOrSet(decomposed, () => 'other')).toBe('espresso');
    expect(await shared.invalidate(composed)).toBe(true);
    expect(await shared.has(decomposed)).toBe(false);
    if (raw) expect(await raw.keys('kp:{shared}:caf*')).toEqual([]);
  });

  it('rejects invisible characters, and anything but printable ASCII where keyCharset is "ascii"', async () => {
    const shared = cache.namespace('shared');
    for (const key of ['user\u200b:1', 'user:1\u202e', '\ufeffuser', 'a\u2028b']) {
      await expect(shared.set(key, 1)).rejects.toThrow(InvalidKeyError);
      await expect(shared.get(key)).rejects.toThrow(/invisible character/);
    }
    await expect(shared.set('user\u200b:1', 1)).rejects.toThrow('Invalid cache key in namespace "shared": the key holds the invisible character U+200B at position 4.');
    await cache.namespace('codes').set('SKU-42 x', 1);
    await expect(cache.namespace('codes').set('caf\u00e9', 1)).rejects.toThrow("this namespace accepts printable ASCII only (keyCharset: 'ascii')");
    await expect(shared.set('ok', 1, { tags: ['t\u200b'] })).rejects.toThrow('Invalid cache tag');
  });

  it('serves a response over maxValueBytes on a cached route without storing it, and caches the small one', async () => {
    const server = app.getHttpServer();
    const controller = app.get(PagesController);
    const renders = controller.renders;
    const big1 = await request(server).get('/pages/p1?size=5000').expect(200);
    const big2 = await request(server).get('/pages/p1?size=5000').expect(200);
    expect(big1.headers['x-cache']).toBe('MISS');
    expect(big2.headers['x-cache']).toBe('MISS');
    expect(big2.body.text).toHaveLength(5000);
    await request(server).get('/pages/p1?size=100').expect(200);
    const small = await request(server).get('/pages/p1?size=100').expect(200);
    expect(small.headers['x-cache']).toBe('HIT');
    expect(controller.renders - renders).toBe(3);
    await expect(cache.namespace('pages').set('direct', 'y'.repeat(5000))).rejects.toThrow('maxValueBytes');
  });

  if (backend === 'redis') {
    const serializer = new TaggedJsonSerializer();

    it('treats a stored value that fails the DTO (wrong types, unknown or nested-invalid properties) as a miss, and deletes it', async () => {
      const albums = cache.namespace('albums');
      const good = { title: 'Blue', year: 1971, artist: { name: 'Joni' } };
      await albums.set('good', good);
      expect(await albums.get('good')).toEqual(good);
      const forged = [
        { title: 'Blue', year: '1971', artist: { name: 'Joni' } },
        { title: 'Blue', year: 1971, artist: { name: 'Joni' }, isAdmin: true },
        { title: 'Blue', year: 1971, artist: { name: 42 } },
        'just a string',
      ];
      const dropped = albums.stats().unreadableDropped;
      for (const [i, value] of forged.entries()) {
        await raw!.set(`kp:{albums}:bad${i}`, serializer.serialize(value));
        expect(await albums.get(`bad${i}`)).toBeUndefined();
        expect(await raw!.exists(`kp:{albums}:bad${i}`)).toBe(0);
      }
      expect(albums.stats().unreadableDropped).toBe(dropped + forged.length);
      // getOrSet loads afresh instead of serving the forged value.
      await raw!.set('kp:{albums}:bad', serializer.serialize({ title: 1 }));
      expect(await albums.getOrSet('bad', () => good)).toEqual(good);
      expect(await albums.get('bad')).toEqual(good);
    });

    it('checks every element with each: true, and refuses null with nullable: false', async () => {
      const lists = cache.namespace('albumLists');
      const good = [{ title: 'Blue', year: 1971, artist: { name: 'Joni' } }];
      await raw!.set('kp:{albumLists}:l1', serializer.serialize(good));
      await raw!.set('kp:{albumLists}:l2', serializer.serialize([...good, { title: 'x' }]));
      await raw!.set('kp:{albumLists}:l3', serializer.serialize(null));
      expect(await lists.mget(['l1', 'l2', 'l3'])).toEqual([good, undefined, undefined]);
      expect(await cache.namespace('albums').get('nothing')).toBeUndefined();
      await cache.namespace('albums').set('absent', null);
      expect(await cache.namespace('albums').get('absent')).toBeNull();
    });
  }
});
