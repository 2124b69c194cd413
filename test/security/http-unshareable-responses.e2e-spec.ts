/**
 * Threat: a response meant for one client reaches another through the cache: a session cookie
 * (and the token in the body), a response the handler marked `no-store` or `private`, an error or
 * other non-2xx answer. Such a response is neither stored nor handed to requests that were waiting
 * for the same key at the same time (they run the handler themselves), and its Cache-Control is
 * never rewritten to `public`. Each case runs against a real Nest app on Express and on Fastify;
 * concurrent requests are made to overlap for certain by holding the first handler on a gate
 * until the second request has joined it (`stats().coalesced`).
 */
import { Controller, Get, HttpStatus, INestApplication, Res, ServiceUnavailableException, UseInterceptors } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { CacheInterceptor, CacheModule, CacheRoute, CacheService } from 'nest-cachekit';
import { createHttpApp, Gate, HTTP_ADAPTERS, HttpAnswer, HttpApp, until } from '../support/http-app';

type Reply = { header(name: string, value: string): unknown; status(code: number): unknown };

@Controller()
@UseInterceptors(CacheInterceptor)
class AccountController {
  gate = new Gate();
  entered = 0;
  tokens = 0;

  /** Starts a session: a fresh token, in the cookie and in the body. */
  @Get('session')
  @CacheRoute({ ttl: '1m' })
  async session(@Res({ passthrough: true }) res: Reply) {
    this.entered++;
    await this.gate.opened;
    const token = `token-${++this.tokens}`;
    res.header('Set-Cookie', `session=${token}; HttpOnly`);
    return { token };
  }

  /** Fails the first time (a dependency was down), answers afterwards. */
  @Get('flaky')
  @CacheRoute({ ttl: '1m' })
  async flaky() {
    const call = ++this.entered;
    await this.gate.opened;
    if (call === 1) throw new ServiceUnavailableException('upstream down');
    return { call };
  }

  /** Answers 404 the first time without throwing, 200 afterwards. */
  @Get('soft-missing')
  @CacheRoute({ ttl: '1m' })
  async softMissing(@Res({ passthrough: true }) res: Reply) {
    const call = ++this.entered;
    await this.gate.opened;
    if (call === 1) res.status(HttpStatus.NOT_FOUND);
    return { call, found: call !== 1 };
  }

  @Get('no-store')
  @CacheRoute({ ttl: '1m' })
  async noStore(@Res({ passthrough: true }) res: Reply) {
    const call = ++this.entered;
    await this.gate.opened;
    res.header('Cache-Control', 'no-store');
    return { call };
  }

  @Get('private')
  @CacheRoute({ ttl: '1m' })
  async privateAnswer(@Res({ passthrough: true }) res: Reply) {
    const call = ++this.entered;
    await this.gate.opened;
    res.header('Cache-Control', 'private, max-age=30');
    return { call, owner: `user-${call}` };
  }
}

describe.each(HTTP_ADAPTERS)('unshareable HTTP responses on %s', (adapter) => {
  let http: HttpApp;
  let controller: AccountController;
  const coalesced = (): number => http.app.get(CacheService).namespace('default').stats().coalesced ?? 0;

  beforeEach(async () => {
    http = await createHttpApp(adapter, { imports: [CacheModule.forRoot({ isGlobal: true })], controllers: [AccountController] });
    controller = http.app.get(AccountController);
  });
  afterEach(() => http.close());

  /** Two requests for one key, the second arriving while the first's handler runs. */
  async function overlapping(url: string): Promise<[HttpAnswer, HttpAnswer]> {
    const before = coalesced();
    const first = http.send(url);
    await until(() => controller.entered === 1, 'the first handler to start');
    const second = http.send(url);
    await until(() => coalesced() > before || controller.entered > 1, 'the second request to join the first');
    controller.gate.open();
    return Promise.all([first, second]);
  }

  it('never hands one client\'s session cookie or token to a concurrent client', async () => {
    const [a, b] = await overlapping('/session');
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(a.body.token).not.toBe(b.body.token);
    expect(String(a.headers['set-cookie'])).toContain(a.body.token);
    expect(String(b.headers['set-cookie'])).toContain(b.body.token);
    expect(controller.entered).toBe(2);
  });

  it('never stores a response that sets a cookie, nor marks it public', async () => {
    controller.gate.open();
    const first = await http.send('/session');
    const second = await http.send('/session');
    expect(second.body.token).not.toBe(first.body.token);
    expect(String(second.headers['set-cookie'])).toContain(second.body.token);
    for (const answer of [first, second]) {
      expect(answer.headers['cache-control'] ?? '').not.toMatch(/public/);
      expect(answer.headers['x-cache']).not.toBe('HIT');
    }
  });

  it('does not hand an error to a concurrent request: it runs the handler itself', async () => {
    const [a, b] = await overlapping('/flaky');
    expect(a.status).toBe(503);
    expect(b.status).toBe(200);
    expect(b.body).toEqual({ call: 2 });
  });

  it('does not hand a non-2xx answer to a concurrent request, nor store it', async () => {
    const [a, b] = await overlapping('/soft-missing');
    expect(a.status).toBe(404);
    expect(b.status).toBe(200);
    expect(b.body).toEqual({ call: 2, found: true });
  });

  it.each(['/no-store', '/private'])('neither stores nor shares a %s response, and keeps its Cache-Control', async (url) => {
    const [a, b] = await overlapping(url);
    expect(b.body.call).not.toBe(a.body.call);
    const third = await http.send(url);
    expect(third.body.call).toBe(3);
    for (const answer of [a, b, third]) {
      expect(answer.headers['cache-control']).toBe(url === '/no-store' ? 'no-store' : 'private, max-age=30');
      expect(answer.headers['x-cache']).not.toBe('HIT');
      // No strong ETag from the cache (Express adds its own weak one to every response).
      expect(answer.headers.etag ?? 'W/').toMatch(/^W\//);
    }
  });
});

@Controller()
@UseInterceptors(CacheInterceptor)
class NewsController {
  calls = 0;

  @Get('news')
  @CacheRoute({ ttl: '1m' })
  news() {
    return { headline: 'shared', call: ++this.calls };
  }
}

/**
 * Cookies set only as the headers go out, by code outside the handler: on Express the way
 * `express-session` does (through `on-headers`, wrapping `writeHead`), on Fastify from an `onSend`
 * hook (the way `@fastify/cookie` writes `reply.setCookie`'s cookies). The body is the shared one,
 * but a response carrying a cookie must never reach shared caches as `public`.
 */
function setCookieAsHeadersGoOut(adapter: string, app: INestApplication): void {
  if (adapter === 'fastify') {
    (app as NestFastifyApplication).getHttpAdapter().getInstance().addHook('onSend', async (_req, reply, payload) => {
      reply.header('set-cookie', 'sid=late-fastify; HttpOnly');
      return payload;
    });
    return;
  }
  app.use((_req: unknown, res: { writeHead: (...args: unknown[]) => unknown; setHeader(n: string, v: string): void }, next: () => void) => {
    const writeHead = res.writeHead;
    res.writeHead = function (this: typeof res, ...args: unknown[]) {
      this.setHeader('Set-Cookie', 'sid=late-express; HttpOnly');
      return writeHead.apply(this, args);
    };
    next();
  });
}

describe.each(HTTP_ADAPTERS)('cookies set as the headers go out, on %s', (adapter) => {
  let http: HttpApp;
  beforeEach(async () => {
    http = await createHttpApp(adapter, { imports: [CacheModule.forRoot({ isGlobal: true })], controllers: [NewsController] },
      (app) => setCookieAsHeadersGoOut(adapter, app));
  });
  afterEach(() => http.close());

  it('never marks a response that carries a cookie public, on a miss or a hit', async () => {
    const miss = await http.send('/news');
    const hit = await http.send('/news');
    expect(hit.headers['x-cache']).toBe('HIT');
    for (const answer of [miss, hit]) {
      expect(String(answer.headers['set-cookie'])).toContain('sid=late');
      expect(answer.headers['cache-control']).toBe('private, no-store');
    }
  });
});

/**
 * `@fastify/cookie`'s `reply.setCookie` keeps cookies on the reply (under a symbol described
 * `fastify.reply.setCookies`) and writes the header only in its `onSend` hook, after the handler.
 * The plugin is not a dependency here: this test registers the same mechanism by hand.
 */
describe('reply.setCookie on fastify (the @fastify/cookie mechanism)', () => {
  const jar = Symbol('fastify.reply.setCookies');

  @Controller()
  @UseInterceptors(CacheInterceptor)
  class LoginController {
    gate = new Gate();
    entered = 0;
    tokens = 0;

    @Get('login')
    @CacheRoute({ ttl: '1m' })
    async login(@Res({ passthrough: true }) reply: { setCookie(name: string, value: string): unknown }) {
      this.entered++;
      await this.gate.opened;
      const token = `token-${++this.tokens}`;
      reply.setCookie('session', token);
      return { token };
    }
  }

  let http: HttpApp;
  beforeEach(async () => {
    http = await createHttpApp('fastify', { imports: [CacheModule.forRoot({ isGlobal: true })], controllers: [LoginController] }, (app) => {
      const fastify = (app as NestFastifyApplication).getHttpAdapter().getInstance();
      fastify.decorateReply('setCookie', function (this: any, name: string, value: string) {
        if (!(this[jar] instanceof Map)) this[jar] = new Map();
        this[jar].set(name, value);
        return this;
      });
      fastify.addHook('onSend', async (_req, reply: any, payload) => {
        if (reply[jar] instanceof Map) reply.header('set-cookie', [...reply[jar]].map(([n, v]) => `${n}=${v}`));
        return payload;
      });
    });
  });
  afterEach(() => http.close());

  it('neither stores nor shares a response whose handler set a cookie with reply.setCookie', async () => {
    const controller = http.app.get(LoginController);
    const stats = () => http.app.get(CacheService).namespace('default').stats().coalesced ?? 0;
    const first = http.send('/login');
    await until(() => controller.entered === 1, 'the first handler to start');
    const second = http.send('/login');
    await until(() => stats() > 0 || controller.entered > 1, 'the second request to join the first');
    controller.gate.open();
    const [a, b] = await Promise.all([first, second]);
    expect(a.body.token).not.toBe(b.body.token);
    expect(String(a.headers['set-cookie'])).toContain(a.body.token);
    expect(String(b.headers['set-cookie'])).toContain(b.body.token);
    const third = await http.send('/login');
    expect(third.body.token).toBe('token-3');
  });
});
