/**
 * Threat: an app registers `CacheInterceptor` globally in its root module. Global interceptors of
 * the root module run before the library's `PrincipalContextInterceptor`, so after a middleware that
 * lost the async context the interceptor's cache calls would run with no request scope at all. They
 * must still run as the request's principal: per-user entries stay the caller's own (never shared,
 * never refused as anonymous and silently uncached).
 */
import { Controller, Get, Injectable, MiddlewareConsumer, Module, NestMiddleware, NestModule, INestApplication, CanActivate, ExecutionContext, UseGuards } from '@nestjs/common';
import { APP_INTERCEPTOR, NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { CacheInterceptor, CacheModule, CacheRoute } from 'nest-cachekit';
import { EventEmitter, once } from 'node:events';
import { request as httpRequest } from 'node:http';
import { AddressInfo } from 'node:net';

/** Created at load time, outside any request: callbacks it runs carry no request's context. */
const signals = new EventEmitter();

/** A shared admission queue: next() runs when another context releases it. */
@Injectable()
class SharedQueue implements NestMiddleware {
  static readonly pending: (() => void)[] = [];
  use(_request: unknown, _response: unknown, next: () => void): void {
    SharedQueue.pending.push(next);
    signals.emit('waiting');
  }
}

@Injectable()
class HeaderAuthGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest();
    const id = request.headers['x-user'];
    if (typeof id === 'string') request.user = { id, roles: ['member'] };
    return true;
  }
}

@Controller('me')
@UseGuards(HeaderAuthGuard)
class ProfileController {
  private calls = 0;

  @Get('profile')
  @CacheRoute({ namespace: 'profiles', perUser: true, ttl: '1m' })
  profile() {
    return { call: ++this.calls };
  }
}

async function start(adapter: 'express' | 'fastify'): Promise<INestApplication> {
  @Module({
    imports: [CacheModule.forRoot({
      isGlobal: true,
      namespaces: { profiles: { scope: 'user' } },
      rbac: { enabled: true, roles: { member: { profiles: ['read', 'write'] } } },
      audit: { enabled: false },
    })],
    controllers: [ProfileController],
    providers: [HeaderAuthGuard, { provide: APP_INTERCEPTOR, useClass: CacheInterceptor }],
  })
  class AppModule implements NestModule {
    configure(consumer: MiddlewareConsumer): void {
      consumer.apply(SharedQueue).forRoutes('{*splat}');
    }
  }
  const app = adapter === 'express'
    ? await NestFactory.create(AppModule, { logger: false })
    : await NestFactory.create(AppModule, new FastifyAdapter(), { logger: false });
  await app.listen(0, '127.0.0.1');
  return app;
}

describe.each(['express', 'fastify'] as const)('a global CacheInterceptor after a context-losing middleware (%s)', (adapter) => {
  let app: INestApplication;
  let port: number;

  beforeAll(async () => {
    app = await start(adapter);
    port = (app.getHttpServer().address() as AddressInfo).port;
  });
  afterAll(() => app.close());

  async function get(user: string): Promise<{ cache: unknown; body: any }> {
    const waiting = once(signals, 'waiting');
    const req = httpRequest({ host: '127.0.0.1', port, path: '/me/profile', method: 'GET', headers: { 'x-user': user } });
    const response = new Promise<{ cache: unknown; body: any }>((resolve, reject) => {
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ cache: res.headers['x-cache'], body: JSON.parse(text) }));
      });
      req.on('error', reject);
    });
    req.end();
    await waiting;
    SharedQueue.pending.splice(0).forEach((next) => next());
    return response;
  }

  it("caches each user's response in that user's scope, and never hands it to another", async () => {
    const first = await get('ann');
    expect(first.cache).toBe('MISS');
    expect(await get('ann')).toEqual({ cache: 'HIT', body: first.body });
    const bob = await get('bob');
    expect(bob.cache).toBe('MISS');
    expect(bob.body).not.toEqual(first.body);
  });
});
