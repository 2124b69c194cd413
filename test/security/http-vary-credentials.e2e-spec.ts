/**
 * Threat: a cached route answers per credential and says so with `Vary: Authorization` (or
 * `Vary: Cookie`). The interceptor keys each variant by the values of those headers; were the values
 * written into the key, every bearer token and session id that reached the route would sit in Redis
 * key names, readable by anyone who can list keys (SCAN, MONITOR, a replica, a backup, a key-browsing
 * tool), encryption at rest or not. Variant keys hold a SHA-256 of the values, never the values,
 * and still keep each credential's response apart.
 */
import { Controller, Get, Header, Req, UseInterceptors } from '@nestjs/common';
import { CacheInterceptor, CacheModule, CacheRoute } from 'nest-cachekit';
import { createHttpApp, HTTP_ADAPTERS, HttpApp } from '../support/http-app';
import { useRedisServer } from '../support/redis-server';

@Controller()
@UseInterceptors(CacheInterceptor)
class TokenController {
  private calls = 0;

  @Get('whoami')
  @CacheRoute({ ttl: '1m' })
  @Header('Vary', 'Authorization, Cookie')
  whoami(@Req() req: { headers: Record<string, string | undefined> }) {
    return { auth: (req.headers.authorization ?? '').length, call: ++this.calls };
  }
}

describe.each(HTTP_ADAPTERS)('credentials named by Vary, on %s with Redis', (adapter) => {
  const redis = useRedisServer({ flushBeforeEach: true });
  let http: HttpApp;

  beforeEach(async () => {
    http = await createHttpApp(adapter, {
      imports: [CacheModule.forRoot({ isGlobal: true, redis: { url: redis.server.url }, defaults: { backend: 'redis' } })],
      controllers: [TokenController],
    });
  });
  afterEach(() => http.close());

  it('keeps each credential\'s response apart without writing a token or session id into any Redis key', async () => {
    const alice = { authorization: 'Bearer alice-token-9f8e7d', cookie: 'sid=alice-session-1a2b3c' };
    const bob = { authorization: 'Bearer bob-token-5c4b3a', cookie: 'sid=bob-session-6d5e4f' };
    const a1 = await http.send({ url: '/whoami', headers: alice });
    const a2 = await http.send({ url: '/whoami', headers: alice });
    const b1 = await http.send({ url: '/whoami', headers: bob });
    expect([a1.headers['x-cache'], a2.headers['x-cache'], b1.headers['x-cache']]).toEqual(['MISS', 'HIT', 'MISS']);
    expect(b1.body.call).not.toBe(a1.body.call);
    const keys = (await redis.admin.keys('*')).join('\n');
    expect(keys).not.toBe('');
    for (const secret of ['alice-token', 'alice-session', 'bob-token', 'bob-session']) expect(keys).not.toContain(secret);
  });
});
