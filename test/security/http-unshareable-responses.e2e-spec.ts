/**
 * Threat: a response meant for one client reaches another through the cache: a session cookie
 * (and the token in the body), a response the handler marked `no-store` or `private`, an error or
 * other non-2xx answer. Such a response is neither stored nor handed to requests that were waiting
 * for the same key at the same time (they run the handler themselves), and its Cache-Control is
 * never rewritten to `public`. Each case runs against a real Nest app on Express and on Fastify;
 * concurrent requests are made to overlap for certain by holding the first handler on a gate
 * until the second request has joined it (`stats().coalesced`).
 */
import { Controller, Get, HttpStatus, Res, ServiceUnavailableException, UseInterceptors } from '@nestjs/common';
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
