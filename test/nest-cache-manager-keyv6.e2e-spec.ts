/**
 * An @nestjs/cache-manager app whose installed Keyv is Keyv 6: @nestjs/cache-manager wraps the store
 * it is given in the app's Keyv, so the `keyv` every module of this file sees is Keyv 6 (the mock
 * below). Its CacheInterceptor and CACHE_MANAGER then run on CachekitKeyvStore through Keyv 6, on
 * memory and on Redis (a real redis-server). Keyv 6 needs Node 22.19 or later; on older Node this
 * file's tests are skipped (nest-cache-manager-interop.e2e-spec.ts covers Keyv 5 there).
 */
import { Controller, Get, INestApplication, Inject, Module, Param, UseInterceptors } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { CacheModule, CacheModuleOptions, CacheService, CachekitKeyvStore } from 'nest-cachekit';
import { RedisServer, startRedisServer } from './support/redis-server';

// Both module systems: `require('keyv')` (CommonJS) and `import … from 'keyv'` in an ES module that
// Jest loads natively (Node 24 with vm modules, where @nestjs/cache-manager is one).
jest.mock('keyv', () => jest.requireActual('keyv6'));
const esmMocks = jest as unknown as { unstable_mockModule?: (name: string, factory: () => unknown) => void };
esmMocks.unstable_mockModule?.('keyv', () => jest.requireActual('keyv6'));

const [nodeMajor, nodeMinor] = process.versions.node.split('.').map(Number);
const keyv6Runs = nodeMajor > 22 || (nodeMajor === 22 && nodeMinor >= 19);

/** Loaded where Keyv 6 runs only, after the mock: @nestjs/cache-manager imports `keyv` when it loads. */
function nestCacheManager(): typeof import('@nestjs/cache-manager') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@nestjs/cache-manager');
}

function appModule(cacheOptions: CacheModuleOptions): { module: new () => object; controller: new (...args: never[]) => { calls: number; manager: { stores: object[]; get(key: string): Promise<unknown>; set(key: string, value: unknown, ttl?: number): Promise<unknown> } } } {
  const { CACHE_MANAGER, CacheInterceptor, CacheModule: NestCacheModule } = nestCacheManager();

  @Controller('songs')
  @UseInterceptors(CacheInterceptor)
  class SongsController {
    calls = 0;

    constructor(@Inject(CACHE_MANAGER) readonly manager: { stores: object[]; get(key: string): Promise<unknown>; set(key: string, value: unknown, ttl?: number): Promise<unknown> }) {}

    @Get(':id')
    find(@Param('id') id: string): { id: string; call: number } {
      this.calls++;
      return { id, call: this.calls };
    }
  }

  @Module({
    imports: [
      CacheModule.forRoot({ isGlobal: true, ...cacheOptions }),
      NestCacheModule.registerAsync({
        inject: [CacheService],
        useFactory: (cache: CacheService) => ({ stores: [new CachekitKeyvStore(cache.namespace('http'))], ttl: 30_000 }),
      }),
    ],
    controllers: [SongsController],
  })
  class Keyv6AppModule {}
  return { module: Keyv6AppModule, controller: SongsController };
}

let server: RedisServer | undefined;

(keyv6Runs ? describe.each : describe.skip.each)([
  ['memory', (): CacheModuleOptions => ({ namespaces: { http: { maxEntries: 100 } } })],
  ['redis', (): CacheModuleOptions => ({ redis: { url: server!.url }, namespaces: { http: { backend: 'redis' } } })],
])(`@nestjs/cache-manager on Keyv 6 and CachekitKeyvStore (%s; Keyv 6 needs Node >= 22.19, this is ${process.version})`, (_backend, options) => {
  let app: INestApplication;
  let cache: CacheService;
  let controller: ReturnType<typeof appModule>['controller'];
  beforeAll(async () => {
    const made = appModule(options());
    controller = made.controller;
    const moduleRef = await Test.createTestingModule({ imports: [made.module] }).compile();
    app = await moduleRef.createNestApplication().init();
    cache = app.get(CacheService);
  });
  afterAll(() => app.close());

  it('wraps our store in Keyv 6', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Keyv: Keyv6 } = jest.requireActual('keyv6') as { Keyv: new () => object };
    const store = app.get(controller).manager.stores[0];
    expect(store).toBeInstanceOf(Keyv6);
    expect((store as { store?: object }).store?.constructor.name).toBe('KeyvBridgeAdapter'); // Keyv 6's bridge to a relative-TTL store
  });

  it('serves the second GET from our backend through its CacheInterceptor', async () => {
    const first = await request(app.getHttpServer()).get('/songs/7').expect(200);
    const second = await request(app.getHttpServer()).get('/songs/7').expect(200);
    expect(first.body).toEqual({ id: '7', call: 1 });
    expect(second.body).toEqual({ id: '7', call: 1 });
    expect(app.get(controller).calls).toBe(1);
    expect(await cache.namespace('http').has('/songs/7')).toBe(true);
  });

  it('sees our invalidation, and CACHE_MANAGER reads and writes our store', async () => {
    await cache.namespace('http').invalidate('/songs/7');
    const third = await request(app.getHttpServer()).get('/songs/7').expect(200);
    expect(third.body).toEqual({ id: '7', call: 2 });

    const manager = app.get(controller).manager;
    await manager.set('greeting', { text: 'hi' }, 10_000);
    expect(await manager.get('greeting')).toEqual({ text: 'hi' });
    expect(await cache.namespace('http').has('greeting')).toBe(true);
  });
});

beforeAll(async () => {
  if (keyv6Runs) server = await startRedisServer();
});
afterAll(() => server?.stop());
