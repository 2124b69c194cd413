/**
 * An app written for @nestjs/cache-manager (its CACHE_MANAGER and CacheInterceptor, cache-manager 7)
 * running unchanged on nest-cachekit's backends through CachekitKeyvStore: on memory, and on Redis
 * (a real redis-server).
 */
import { CACHE_MANAGER, CacheInterceptor as NestCacheInterceptor, CacheModule as NestCacheModule } from '@nestjs/cache-manager';
import { Controller, Get, INestApplication, Inject, Module, Param, UseInterceptors } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Cache } from 'cache-manager';
import request from 'supertest';
import { CacheModule, CacheModuleOptions, CacheService, CachekitKeyvStore } from 'nest-cachekit';
import { RedisServer, startRedisServer } from './support/redis-server';

@Controller('songs')
@UseInterceptors(NestCacheInterceptor)
class SongsController {
  calls = 0;

  constructor(@Inject(CACHE_MANAGER) readonly manager: Cache) {}

  @Get(':id')
  find(@Param('id') id: string): { id: string; call: number } {
    this.calls++;
    return { id, call: this.calls };
  }
}

function appModule(cacheOptions: CacheModuleOptions): new () => object {
  @Module({
    imports: [
      CacheModule.forRoot({ isGlobal: true, ...cacheOptions }),
      // The app's existing @nestjs/cache-manager set-up; only the store is ours.
      NestCacheModule.registerAsync({
        inject: [CacheService],
        useFactory: (cache: CacheService) => ({ stores: [new CachekitKeyvStore(cache.namespace('http'))], ttl: 30_000 }),
      }),
    ],
    controllers: [SongsController],
  })
  class InteropAppModule {}
  return InteropAppModule;
}

describe.each([
  ['memory', (): CacheModuleOptions => ({ namespaces: { http: { maxEntries: 100 } } })],
  ['redis', (): CacheModuleOptions => ({ redis: { url: server.url }, namespaces: { http: { backend: 'redis' } } })],
])('@nestjs/cache-manager on CachekitKeyvStore (%s)', (_backend, options) => {
  let app: INestApplication;
  let cache: CacheService;
  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [appModule(options())] }).compile();
    app = await moduleRef.createNestApplication().init();
    cache = app.get(CacheService);
  });
  afterAll(() => app.close());

  it('serves the second GET from our backend through its CacheInterceptor', async () => {
    const first = await request(app.getHttpServer()).get('/songs/7').expect(200);
    const second = await request(app.getHttpServer()).get('/songs/7').expect(200);
    expect(first.body).toEqual({ id: '7', call: 1 });
    expect(second.body).toEqual({ id: '7', call: 1 });
    expect(app.get(SongsController).calls).toBe(1);
    // The entry lives in our namespace, under the interceptor's key (the URL; @nestjs/cache-manager sets no Keyv namespace).
    expect(await cache.namespace('http').has('/songs/7')).toBe(true);
  });

  it('sees our invalidation, and CACHE_MANAGER reads and writes our store', async () => {
    await cache.namespace('http').invalidate('/songs/7');
    const third = await request(app.getHttpServer()).get('/songs/7').expect(200);
    expect(third.body).toEqual({ id: '7', call: 2 });

    const manager = app.get(SongsController).manager;
    await manager.set('greeting', { text: 'hi' }, 10_000);
    expect(await manager.get('greeting')).toEqual({ text: 'hi' });
    expect(await cache.namespace('http').has('greeting')).toBe(true);
  });
});

let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(() => server.stop());
