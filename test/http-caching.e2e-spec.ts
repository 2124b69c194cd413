/**
 * What HTTP clients and CDNs see of a cached route: `Cache-Control` with the TTL left (also when the
 * TTL is the namespace's), a strong `ETag` computed from the stored body, and `304 Not Modified`
 * for a matching `If-None-Match` (weak comparison, lists and `*`, RFC 9110 13.1.2). Real apps on
 * Express and Fastify, with the entries in memory and in a real redis-server.
 */
import { Controller, Get, Param, UseInterceptors } from '@nestjs/common';
import { CacheInterceptor, CacheModule, CacheModuleOptions, CacheRoute } from 'nest-cachekit';
import { createHttpApp, HTTP_ADAPTERS, HttpApp } from './support/http-app';
import { RedisServer, startRedisServer } from './support/redis-server';

@Controller()
@UseInterceptors(CacheInterceptor)
class PagesController {
  calls = 0;

  /** No `ttl`: the namespace's (2 minutes). */
  @Get('pages/:id')
  @CacheRoute({ namespace: 'pages' })
  page(@Param('id') id: string) {
    return { id, text: `page ${id}`, call: ++this.calls };
  }

  @Get('forever')
  @CacheRoute({ namespace: 'pages', ttl: 0 })
  forever() {
    return { call: ++this.calls };
  }

  @Get('me')
  @CacheRoute({ ttl: '30s', perUser: true, principal: (req: { headers: Record<string, string> }) => req.headers['x-user'] })
  me() {
    return { call: ++this.calls };
  }
}

const cases = HTTP_ADAPTERS.flatMap((adapter) => (['memory', 'redis'] as const).map((backend) => [adapter, backend] as const));

describe.each(cases)('HTTP caching headers on %s, entries in %s', (adapter, backend) => {
  let redis: RedisServer | undefined;
  let http: HttpApp;

  beforeAll(async () => {
    if (backend === 'redis') redis = await startRedisServer();
    const options: CacheModuleOptions = {
      namespaces: { pages: { ttl: '2m' } },
      ...(redis ? { redis: { url: redis.url }, defaults: { backend: 'redis' } } : {}),
    };
    http = await createHttpApp(adapter, { imports: [CacheModule.forRoot({ ...options, isGlobal: true })], controllers: [PagesController] });
  });
  afterAll(async () => {
    await http.close();
    await redis?.stop();
  });

  const maxAge = (cacheControl: unknown): number => Number(/max-age=(\d+)/.exec(String(cacheControl))?.[1] ?? NaN);

  it('sends max-age = the TTL left when the route takes its TTL from the namespace', async () => {
    const miss = await http.send('/pages/1');
    expect(miss.headers['x-cache']).toBe('MISS');
    expect(miss.headers['cache-control']).toBe('public, max-age=120');
    const hit = await http.send('/pages/1');
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(hit.headers['cache-control']).toMatch(/^public, max-age=\d+$/);
    expect(maxAge(hit.headers['cache-control'])).toBeLessThanOrEqual(120);
    // max-age is already the TTL left: an Age header would make downstream caches count the elapsed time twice.
    expect(hit.headers.age).toBeUndefined();
  });

  it('asks clients to revalidate an entry without expiry (no-cache), and answers their revalidation with 304', async () => {
    const miss = await http.send('/forever');
    expect(miss.headers['cache-control']).toBe('public, no-cache');
    const revalidated = await http.send({ url: '/forever', headers: { 'if-none-match': String(miss.headers.etag) } });
    expect(revalidated.status).toBe(304);
  });

  it('sends a strong ETag from the stored body, the same on every hit and different for another body', async () => {
    const miss = await http.send('/pages/2');
    expect(miss.headers.etag).toMatch(/^"[A-Za-z0-9_-]{16,}"$/);
    const hit = await http.send('/pages/2');
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(hit.headers.etag).toBe(miss.headers.etag);
    expect((await http.send('/pages/3')).headers.etag).not.toBe(miss.headers.etag);
  });

  it('answers a matching If-None-Match with 304 and no body: exact, weak, in a list, or *', async () => {
    const { headers } = await http.send('/pages/4');
    const etag = String(headers.etag);
    for (const condition of [etag, `W/${etag}`, `"nope", ${etag}`, `W/"nope",${etag} `, '*']) {
      const answer = await http.send({ url: '/pages/4', headers: { 'if-none-match': condition } });
      expect({ condition, status: answer.status }).toEqual({ condition, status: 304 });
      expect(answer.text).toBe('');
      expect(answer.headers.etag).toBe(etag);
      expect(answer.headers['cache-control']).toMatch(/^public, max-age=\d+$/);
    }
  });

  it('answers a non-matching If-None-Match with the full response', async () => {
    const { headers, body } = await http.send('/pages/5');
    for (const condition of ['"nope"', 'W/"nope"', String(headers.etag).slice(0, -2) + '"']) {
      const answer = await http.send({ url: '/pages/5', headers: { 'if-none-match': condition } });
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual(body);
    }
  });

  it('marks per-user responses private, with their own ETag and 304', async () => {
    const ada = await http.send({ url: '/me', headers: { 'x-user': 'ada' } });
    expect(ada.headers['cache-control']).toBe('private, max-age=30');
    const again = await http.send({ url: '/me', headers: { 'x-user': 'ada', 'if-none-match': String(ada.headers.etag) } });
    expect(again.status).toBe(304);
    expect(again.headers['cache-control']).toMatch(/^private, max-age=\d+$/);
    const lin = await http.send({ url: '/me', headers: { 'x-user': 'lin', 'if-none-match': String(ada.headers.etag) } });
    expect(lin.status).toBe(200);
    expect(lin.body.call).not.toBe(ada.body.call);
  });
});
