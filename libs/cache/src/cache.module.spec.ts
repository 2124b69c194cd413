import {
  CanActivate, ConsoleLogger, Controller, Get, Global, INestApplication, Injectable, Logger, MiddlewareConsumer, Module, NestMiddleware,
  NestModule, UseGuards,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { CacheAccessControl } from './access/cache-access-control';
import { MapBackendFactory } from '../test/map-backend.fixture';
import { CacheModule } from './cache.module';
import { CacheService } from './cache.service';
import { InvalidOptionsError } from './errors/invalid-options.error';
import { UnknownNamespaceError } from './errors/unknown-namespace.error';
import { CacheNamespace } from './namespace/cache-namespace';
import { InjectCache } from './namespace/inject-cache.decorator';
import { CacheModuleOptions, CacheOptionsFactory } from './options/cache-module-options.interface';

@Injectable()
class TrackCatalog {
  constructor(
    @InjectCache('users') readonly users: CacheNamespace<{ name: string }>,
    @InjectCache('tracks') readonly tracks: CacheNamespace<{ title: string }>,
  ) {}
}

@Injectable()
class ConfigService {
  readonly namespaces = { users: { ttl: '1h' }, tracks: { maxEntries: 50 } };
}

@Module({ providers: [ConfigService], exports: [ConfigService] })
class ConfigModule {}

@Injectable()
class CacheConfig implements CacheOptionsFactory {
  constructor(private readonly config: ConfigService) {}
  createCacheOptions(): CacheModuleOptions {
    return { namespaces: this.config.namespaces };
  }
}

describe('CacheModule', () => {
  it('forRoot provides CacheService and injects several namespaces into one provider', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [CacheModule.forRoot({ namespaces: { users: {}, tracks: {} } })],
      providers: [TrackCatalog],
    }).compile();
    const catalog = moduleRef.get(TrackCatalog);
    const cache = moduleRef.get(CacheService);
    await catalog.users.set('1', { name: 'Ada' });
    await catalog.tracks.set('1', { title: 'Blue' });
    expect(await cache.namespace('users').get('1')).toEqual({ name: 'Ada' });
    expect(await cache.namespace('tracks').get('1')).toEqual({ title: 'Blue' });
    expect(await cache.get('1')).toBeUndefined();
    expect(cache.namespaces().sort()).toEqual(['default', 'tracks', 'users']);
    await moduleRef.close();
  });

  it('forRootAsync with useFactory, inject and imports, made global, reaches providers in other modules', async () => {
    @Module({ providers: [TrackCatalog], exports: [TrackCatalog] })
    class FeatureModule {}

    const moduleRef = await Test.createTestingModule({
      imports: [
        CacheModule.forRootAsync({
          isGlobal: true,
          imports: [ConfigModule],
          inject: [ConfigService],
          useFactory: (config: ConfigService) => ({ namespaces: config.namespaces }),
          namespaces: ['users', 'tracks'],
        }),
        FeatureModule,
      ],
    }).compile();
    const catalog = moduleRef.get(TrackCatalog);
    await catalog.users.set('2', { name: 'Lin' });
    expect(await moduleRef.get(CacheService).namespace('users').get('2')).toEqual({ name: 'Lin' });
    expect(catalog.users.stats().eviction).toBe('lru');
    await moduleRef.close();
  });

  it('forRootAsync with useClass builds the options through DI', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [CacheModule.forRootAsync({ imports: [ConfigModule], useClass: CacheConfig, namespaces: ['users'] })],
    }).compile();
    const cache = moduleRef.get(CacheService);
    await cache.namespace('tracks').set('t', { title: 'x' });
    expect(await cache.namespace('tracks').get('t')).toEqual({ title: 'x' });
    await moduleRef.close();
  });

  it('forRootAsync with useExisting reuses a provider from an imported module', async () => {
    @Module({ imports: [ConfigModule], providers: [CacheConfig], exports: [CacheConfig] })
    class CacheConfigModule {}
    const moduleRef = await Test.createTestingModule({
      imports: [CacheModule.forRootAsync({ imports: [CacheConfigModule], useExisting: CacheConfig })],
    }).compile();
    expect(moduleRef.get(CacheService).namespaces()).toContain('users');
    await moduleRef.close();
  });

  it('fails the start with a message naming the bad field', async () => {
    const start = Test.createTestingModule({
      imports: [CacheModule.forRoot({ namespaces: { users: { ttl: 'forever', maxEntries: 0 } } })],
    }).compile();
    await expect(start).rejects.toThrow(InvalidOptionsError);
    await expect(
      Test.createTestingModule({ imports: [CacheModule.forRoot({ namespaces: { users: { ttl: 'forever' } } })] }).compile(),
    ).rejects.toThrow(/namespaces\.users\.ttl: "forever" is not a duration string/);
  });

  it('fails the start when a provider injects a namespace that is not configured', async () => {
    @Injectable()
    class NeedsGhost {
      constructor(@InjectCache('ghost') readonly ghost: CacheNamespace) {}
    }
    const start = Test.createTestingModule({
      imports: [CacheModule.forRootAsync({ useFactory: () => ({}), namespaces: ['ghost'] })],
      providers: [NeedsGhost],
    }).compile();
    await expect(start).rejects.toThrow(UnknownNamespaceError);
  });

  it('plugs in a custom backend given as an instance, and closes it at shutdown', async () => {
    const store = new MapBackendFactory();
    const moduleRef = await Test.createTestingModule({
      imports: [CacheModule.forRoot({ backends: { map: store }, namespaces: { users: { backend: 'map' } } })],
    }).compile();
    const users = moduleRef.get(CacheService).namespace('users');
    await users.set('1', { when: new Date(0) });
    // Byte-storing backends receive the serializer's output under the namespace's key prefix.
    expect([...store.store.keys()]).toEqual(['cache:{users}:1']);
    expect(await users.get('1')).toEqual({ when: new Date(0) });
    await moduleRef.close();
    expect(store.closed).toBe(true);
  });

  it('closes every backend at shutdown even when one fails to close, and logs which one', async () => {
    const failing = new MapBackendFactory();
    failing.close = (): void => {
      throw new Error('socket already gone');
    };
    const healthy = new MapBackendFactory();
    const moduleRef = await Test.createTestingModule({
      imports: [CacheModule.forRoot({ backends: { failing, healthy }, namespaces: { a: { backend: 'failing' }, b: { backend: 'healthy' } } })],
    }).compile();
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      await moduleRef.close();
      expect(healthy.closed).toBe(true);
      expect(logged).toHaveBeenCalledWith('Closing backend "failing" failed: Error');
    } finally {
      logged.mockRestore();
    }
  });

  it('instantiates a custom backend class with dependency injection from the modules it can see', async () => {
    @Injectable()
    class Clock {
      now = (): number => 42;
    }
    @Global()
    @Module({ providers: [Clock], exports: [Clock] })
    class ClockModule {}
    @Injectable()
    class ClockedMapBackend extends MapBackendFactory {
      constructor(readonly clock: Clock) {
        super();
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [
        ClockModule,
        CacheModule.forRoot({ isGlobal: true, backends: { clocked: ClockedMapBackend }, defaults: { backend: 'clocked' } }),
      ],
    }).compile();
    const cache = moduleRef.get(CacheService);
    await cache.set('k', 1);
    expect(await cache.get('k')).toBe(1);
    expect(cache.stats()[0].backend).toBe('map');
    await moduleRef.close();
  });
});

/** Keeps what Nest logs at warn and error level. */
class CapturingLogger extends ConsoleLogger {
  readonly lines: string[] = [];
  override warn(message: unknown): void {
    this.lines.push(`warn ${String(message)}`);
  }
  override error(message: unknown): void {
    this.lines.push(`error ${String(message)}`);
  }
  override log(): void {}
}

/** The demo's kind of authentication: a middleware sets request.user (the raw request on Fastify). */
@Injectable()
class HeaderUserMiddleware implements NestMiddleware {
  use(req: { headers: Record<string, unknown>; user?: unknown }, _res: unknown, next: () => void): void {
    if (typeof req.headers['x-user'] === 'string') req.user = { id: req.headers['x-user'], roles: [] };
    next();
  }
}

/** Records who the cache sees in a guard: that is the middleware's scope (interceptors come later). */
@Injectable()
class SeenInGuard implements CanActivate {
  static seen: string[] = [];
  constructor(private readonly access: CacheAccessControl) {}
  canActivate(): boolean {
    SeenInGuard.seen.push(this.access.current().id);
    return true;
  }
}

@Controller('things')
@UseGuards(SeenInGuard)
class ThingsController {
  @Get()
  list(): string[] {
    return [];
  }
}

describe('CacheModule middleware route', () => {
  it.each([
    ['express', true], ['express', false], ['fastify', true], ['fastify', false],
  ] as const)('opens the principal scope on every route without a route-syntax warning (%s, global prefix: %s)', async (adapter, prefixed) => {
    @Module({ imports: [CacheModule.forRoot({ rbac: { enabled: true }, audit: { keyHashSecret: 'module-spec-secret-0123' } })], controllers: [ThingsController], providers: [SeenInGuard] })
    class AppModule implements NestModule {
      configure(consumer: MiddlewareConsumer): void {
        consumer.apply(HeaderUserMiddleware).forRoutes('{*splat}');
      }
    }
    const logger = new CapturingLogger();
    const app: INestApplication = adapter === 'express'
      ? await NestFactory.create(AppModule, { logger })
      : await NestFactory.create<NestFastifyApplication>(AppModule, new FastifyAdapter(), { logger });
    if (prefixed) app.setGlobalPrefix('api');
    await app.init();
    SeenInGuard.seen = [];
    const path = prefixed ? '/api/things' : '/things';
    try {
      if (adapter === 'express') {
        await request(app.getHttpServer()).get(path).set('x-user', 'ann').expect(200);
      } else {
        await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
        expect((await (app as NestFastifyApplication).inject({ method: 'GET', url: path, headers: { 'x-user': 'ann' } })).statusCode).toBe(200);
      }
      expect(SeenInGuard.seen).toEqual(['ann']);
      expect(logger.lines).toEqual([]);
    } finally {
      await app.close();
    }
  });
});
