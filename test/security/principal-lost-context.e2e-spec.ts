/**
 * Threat: a request whose async context is lost before the handler runs is served as someone else.
 *
 * A middleware registered after the library's that calls `next()` from a callback of a resource
 * created outside the request (the socket's `'end'` event in a hand-written raw-body reader, a shared
 * queue or connection pool) drops the `AsyncLocalStorage` scope the library's middleware opened. The
 * attacks below run on real Express and Fastify apps (real sockets) with RBAC on and a namespace
 * scoped per user: user B reads user A's entry, an anonymous caller reads it, an anonymous caller
 * clears a namespace. The library must establish the request's principal where nothing can lose it
 * afterwards (its global interceptor), and must never fall back to the system principal.
 */
import {
  CallHandler, CanActivate, Controller, ExecutionContext, INestApplication, Injectable, MiddlewareConsumer, Module, NestInterceptor, NestMiddleware,
  NestModule, Param, Post, UseGuards,
} from '@nestjs/common';
import { APP_INTERCEPTOR, NestFactory } from '@nestjs/core';
import { Observable } from 'rxjs';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { CacheAccessControl, CacheModule, CacheService, PrincipalContextInterceptor } from 'nest-cachekit';
import { EventEmitter, once } from 'node:events';
import { request as httpRequest } from 'node:http';
import { AddressInfo } from 'node:net';

/** Created at load time, outside any request: callbacks it runs carry no request's context. */
const signals = new EventEmitter();

/** A hand-written raw-body reader (as for webhook signatures): next() runs in the socket's 'end' callback. */
@Injectable()
class RawBodyReader implements NestMiddleware {
  use(request: any, _response: unknown, next: () => void): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      request.rawBody = Buffer.concat(chunks);
      next();
    });
    signals.emit('waiting');
  }
}

/** A shared admission queue (a throttle, a pool): next() runs when another context releases it. */
@Injectable()
class SharedQueue implements NestMiddleware {
  static readonly pending: (() => void)[] = [];
  use(_request: unknown, _response: unknown, next: () => void): void {
    SharedQueue.pending.push(next);
    signals.emit('waiting');
  }
}

/** Sets request.user the way Passport's guard does: on the request Nest hands guards (the Fastify request on Fastify). */
@Injectable()
class HeaderAuthGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest();
    const id = request.headers['x-user'];
    if (typeof id === 'string') request.user = { id, roles: id === 'olga' ? ['ops'] : ['member'] };
    return true;
  }
}

/**
 * An app's own global interceptor that uses the cache (as a global CacheInterceptor would). Global
 * interceptors of the root module run before the library's: listing PrincipalContextInterceptor first
 * among them (as docs/access-control-and-audit.md says) puts them in the request's scope too.
 */
@Injectable()
class LastSeenInterceptor implements NestInterceptor {
  static seen: string[] = [];
  constructor(private readonly access: CacheAccessControl) {}
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    LastSeenInterceptor.seen.push(this.access.current().id);
    return next.handle();
  }
}

@Controller()
@UseGuards(HeaderAuthGuard)
class LibraryController {
  constructor(private readonly cache: CacheService) {}

  @Post('library/:key/:value')
  async write(@Param('key') key: string, @Param('value') value: string) {
    await this.cache.namespace('library').set(key, value);
    return { ok: true };
  }

  @Post('library/:key')
  async read(@Param('key') key: string) {
    return { value: (await this.cache.namespace('library').get(key)) ?? null };
  }

  @Post('drafts/clear')
  async clear() {
    return { removed: await this.cache.invalidateNamespace('drafts') };
  }
}

type Adapter = 'express' | 'fastify';
type Loser = 'raw-body reader' | 'shared queue';

async function start(adapter: Adapter, loser: Loser, appInterceptor: boolean): Promise<INestApplication> {
  const middleware = loser === 'raw-body reader' ? RawBodyReader : SharedQueue;
  @Module({
    imports: [CacheModule.forRoot({
      isGlobal: true,
      namespaces: { library: { scope: 'user' }, drafts: {} },
      rbac: {
        enabled: true,
        roles: { member: { library: ['read', 'write'], drafts: ['read', 'write'] }, ops: { '*': ['admin'] } },
      },
      audit: { enabled: false },
    })],
    controllers: [LibraryController],
    providers: [
      HeaderAuthGuard,
      ...(appInterceptor
        ? [{ provide: APP_INTERCEPTOR, useExisting: PrincipalContextInterceptor }, { provide: APP_INTERCEPTOR, useClass: LastSeenInterceptor }]
        : []),
    ],
  })
  class AppModule implements NestModule {
    configure(consumer: MiddlewareConsumer): void {
      consumer.apply(middleware).forRoutes('{*splat}');
    }
  }
  const app = adapter === 'express'
    ? await NestFactory.create(AppModule, { logger: false, bodyParser: false })
    : await NestFactory.create(AppModule, new FastifyAdapter(), { logger: false });
  await app.listen(0, '127.0.0.1');
  return app;
}

describe.each([
  ['express', 'raw-body reader', false],
  ['express', 'shared queue', false],
  ['fastify', 'shared queue', false],
  ['express', 'raw-body reader', true],
  ['fastify', 'shared queue', true],
] as [Adapter, Loser, boolean][])('a request whose context a middleware loses (%s, %s, an app-global interceptor: %s)', (adapter, loser, appInterceptor) => {
  let app: INestApplication;
  let port: number;

  beforeAll(async () => {
    app = await start(adapter, loser, appInterceptor);
    port = (app.getHttpServer().address() as AddressInfo).port;
  });
  afterAll(() => app.close());

  /** POSTs with the headers first, and the body (or the queue's release) only once the middleware waits for it. */
  async function post(path: string, user?: string): Promise<{ status: number; body: any }> {
    const body = 'payload';
    const waiting = once(signals, 'waiting');
    const req = httpRequest({
      host: '127.0.0.1', port, path, method: 'POST',
      headers: { ...(user ? { 'x-user': user } : {}), ...(loser === 'raw-body reader' ? { 'content-type': 'text/plain', 'content-length': body.length } : { 'content-length': 0 }) },
    });
    const response = new Promise<{ status: number; body: any }>((resolve, reject) => {
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
      });
      req.on('error', reject);
    });
    req.flushHeaders();
    await waiting;
    if (loser === 'raw-body reader') {
      req.end(body);
    } else {
      req.end();
      SharedQueue.pending.splice(0).forEach((next) => next());
    }
    return response;
  }

  it('keeps user B out of user A\'s entry in a namespace scoped per user', async () => {
    expect((await post('/library/token/ann-secret', 'ann')).status).toBe(201);
    expect((await post('/library/token', 'ann')).body).toEqual({ value: 'ann-secret' });
    LastSeenInterceptor.seen = [];
    const stolen = await post('/library/token', 'bob');
    expect(stolen).toEqual({ status: 201, body: { value: null } });
    expect(LastSeenInterceptor.seen).toEqual(appInterceptor ? ['bob'] : []);
  });

  it('refuses an anonymous read of a namespace scoped per user', async () => {
    await post('/library/diary/ann-diary', 'ann');
    const anonymous = await post('/library/diary');
    expect(anonymous.status).toBe(403);
    expect(anonymous.body).toMatchObject({ statusCode: 403 });
    expect(JSON.stringify(anonymous.body)).not.toContain('ann-diary');
  });

  it('refuses an anonymous clear() and keeps the entries; an admin may clear', async () => {
    const access = app.get(CacheAccessControl);
    const drafts = app.get(CacheService).namespace('drafts');
    await access.runAsSystem(() => drafts.set('d1', 'kept'));
    expect((await post('/drafts/clear')).status).toBe(403);
    expect((await post('/drafts/clear', 'bob')).status).toBe(403); // a member, not an admin
    expect(await access.runAsSystem(() => drafts.get('d1'))).toBe('kept');
    expect(await post('/drafts/clear', 'olga')).toEqual({ status: 201, body: { removed: 1 } });
  });
});
