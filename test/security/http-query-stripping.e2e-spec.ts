/**
 * Threat: cache poisoning through the URL. The key holds only the query parameters a route lists;
 * if the handler could still read the others (from `req.url`, `req.originalUrl` or the raw
 * request's URL), an attacker's `?x=<script>` would be cached and served to everyone asking for
 * the same key. The handler must see only what the key holds. Real apps on Express and Fastify.
 */
import { Body, Controller, Get, Req, UseInterceptors } from '@nestjs/common';
import { CacheInterceptor, CacheModule, CacheRoute } from 'nest-cachekit';
import { createHttpApp, HTTP_ADAPTERS, HttpApp } from '../support/http-app';

@Controller()
@UseInterceptors(CacheInterceptor)
class EchoController {
  calls = 0;

  /** Echoes every way a handler can read its URL (a canonical link, a pagination "next" URL…). */
  @Get('echo')
  @CacheRoute({ ttl: '1m', query: ['page', 'tag'] })
  echo(@Req() req: { url: string; originalUrl?: string; raw?: { url?: string; originalUrl?: string }; query: unknown }) {
    return { url: req.url, originalUrl: req.originalUrl, rawUrl: req.raw?.url, rawOriginalUrl: req.raw?.originalUrl, query: req.query, call: ++this.calls };
  }
}

describe.each(HTTP_ADAPTERS)('query parameters the key does not hold, on %s', (adapter) => {
  let http: HttpApp;
  beforeEach(async () => {
    http = await createHttpApp(adapter, { imports: [CacheModule.forRoot({ isGlobal: true })], controllers: [EchoController] });
  });
  afterEach(() => http.close());

  const urls = (body: Record<string, unknown>): string[] =>
    [body.url, body.originalUrl, body.rawUrl, body.rawOriginalUrl].filter((u): u is string => typeof u === 'string');

  it('removes unlisted parameters from every URL the handler can read, so a poisoned miss caches nothing of them', async () => {
    const poisoned = await http.send('/echo?page=2&callback=%3Cscript%3Ealert(1)%3C%2Fscript%3E&utm_source=x');
    expect(poisoned.status).toBe(200);
    expect(poisoned.text).not.toMatch(/script|callback|utm_source/);
    expect(urls(poisoned.body).length).toBeGreaterThanOrEqual(2);
    for (const url of urls(poisoned.body)) expect(url).toBe('/echo?page=2');
    expect(poisoned.body.query).toEqual({ page: '2' });

    const victim = await http.send('/echo?page=2');
    expect(victim.headers['x-cache']).toBe('HIT');
    expect(victim.text).not.toMatch(/script|callback/);
  });

  it('keeps listed parameters (repeated, encoded) and drops the query string when none is listed', async () => {
    const repeated = await http.send('/echo?tag=a&x=1&tag=b%20c&pa%67e=3');
    expect(repeated.status).toBe(200);
    expect(urls(repeated.body).length).toBeGreaterThanOrEqual(2);
    for (const url of urls(repeated.body)) {
      expect(url.startsWith('/echo?')).toBe(true);
      expect(new URLSearchParams(url.slice('/echo?'.length)).getAll('tag')).toEqual(['a', 'b c']);
      expect(new URLSearchParams(url.slice('/echo?'.length)).get('page')).toBe('3');
      expect(url).not.toMatch(/x=1/);
    }
    const none = await http.send('/echo?x=1');
    expect(urls(none.body).length).toBeGreaterThanOrEqual(2);
    for (const url of urls(none.body)) expect(url).toBe('/echo');
  });
});

/** The same threat through a request body, which Nest lets a GET handler read with `@Body()`. */
@Controller()
@UseInterceptors(CacheInterceptor)
class SearchController {
  calls = 0;

  @Get('search')
  @CacheRoute({ ttl: '1m' })
  search(@Body() body: { q?: string } | undefined) {
    return { results: [`about ${body?.q ?? 'everything'}`], call: ++this.calls };
  }
}

describe.each(HTTP_ADAPTERS)('a GET request body the key does not hold, on %s', (adapter) => {
  let http: HttpApp;
  beforeEach(async () => {
    http = await createHttpApp(adapter, { imports: [CacheModule.forRoot({ isGlobal: true })], controllers: [SearchController] });
  });
  afterEach(() => http.close());

  it('answers a GET that carries a body uncached, so that the body cannot poison the entry', async () => {
    const poisoned = await http.send({ url: '/search', headers: { 'content-type': 'application/json' }, body: '{"q":"<script>"}' });
    expect(poisoned.status).toBe(200);
    expect(poisoned.headers['x-cache']).toBeUndefined();
    const victim = await http.send('/search');
    expect(victim.text).not.toContain('script');
    expect((await http.send('/search')).headers['x-cache']).toBe('HIT');
  });
});
