import { Controller, Get, INestApplication, NotFoundException, Param, Post, Query, Res, ServiceUnavailableException, UseInterceptors } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { CacheModule } from '../cache.module';
import { FaultInjectionBackendFactory } from '../backends/fault-injection/fault-injection-backend';
import { MapBackendFactory } from '../../test/map-backend.fixture';
import { CacheRoute } from './cache-route.decorator';
import { CacheInterceptor } from './cache.interceptor';

@Controller()
@UseInterceptors(CacheInterceptor)
class ChartsController {
  calls = 0;

  @Get('charts/:country')
  @CacheRoute({ ttl: '1m', query: ['page'] })
  charts(@Param('country') country: string, @Query() query: Record<string, string>) {
    return { country, query, call: ++this.calls };
  }

  @Get('missing')
  @CacheRoute({ ttl: '1m' })
  missing() {
    this.calls++;
    throw new NotFoundException();
  }

  @Get('with-cookie')
  @CacheRoute({ ttl: '1m' })
  withCookie(@Res({ passthrough: true }) res: { setHeader(name: string, value: string): void }) {
    res.setHeader('Set-Cookie', 'session=abc');
    return { call: ++this.calls };
  }

  @Get('me/library')
  @CacheRoute({ ttl: '1m', perUser: true })
  library() {
    return { call: ++this.calls };
  }

  @Post('charts/:country')
  @CacheRoute({ ttl: '1m' })
  update() {
    return { call: ++this.calls };
  }

  @Get('plain')
  plain() {
    return { call: ++this.calls };
  }
}

describe('CacheInterceptor', () => {
  let app: INestApplication;
  const get = (path: string) => request(app.getHttpServer()).get(path);

  beforeEach(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [CacheModule.forRoot({ isGlobal: true })],
      controllers: [ChartsController],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    app.use((req: { headers: Record<string, string>; user?: { id: string } }, _res: unknown, next: () => void) => {
      if (req.headers['x-user']) req.user = { id: req.headers['x-user'] };
      next();
    });
    await app.init();
  });
  afterEach(() => app.close());

  it('caches a GET by route, params and allowlisted query; other query params never reach the handler', async () => {
    const first = await get('/charts/fr?page=1&lang=fr').expect(200);
    expect(first.body).toEqual({ country: 'fr', query: { page: '1' }, call: 1 });
    expect(first.headers['x-cache']).toBe('MISS');
    expect(first.headers['cache-control']).toBe('public, max-age=60');
    const second = await get('/charts/fr?lang=de&page=1&utm=x').set('X-Forwarded-Host', 'evil.example').expect(200);
    expect(second.body).toEqual(first.body);
    expect(second.headers['x-cache']).toBe('HIT');
    expect(second.headers.age).toBeUndefined();
    expect((await get('/charts/fr?page=2').expect(200)).body.call).toBe(2);
    expect((await get('/charts/de?page=1').expect(200)).body.call).toBe(3);
  });

  it('does not cache errors or responses that set cookies', async () => {
    await get('/missing').expect(404);
    await get('/missing').expect(404);
    await get('/with-cookie').expect(200);
    const again = await get('/with-cookie').expect(200);
    expect(again.body.call).toBe(4);
  });

  it('keys per-user routes by principal, and does not cache anonymous requests', async () => {
    const ada = await get('/me/library').set('x-user', 'ada').expect(200);
    const lin = await get('/me/library').set('x-user', 'lin').expect(200);
    expect(ada.body.call).not.toBe(lin.body.call);
    expect(ada.headers['cache-control']).toBe('private, max-age=60');
    expect((await get('/me/library').set('x-user', 'ada').expect(200)).body).toEqual(ada.body);
    const anonymous = await get('/me/library').expect(200);
    expect(anonymous.headers['x-cache']).toBeUndefined();
    expect((await get('/me/library').expect(200)).body.call).toBe(anonymous.body.call + 1);
  });

  it('leaves other methods and unmarked routes alone', async () => {
    await request(app.getHttpServer()).post('/charts/fr').expect(201);
    const post = await request(app.getHttpServer()).post('/charts/fr').expect(201);
    expect(post.body.call).toBe(2);
    expect(post.headers['x-cache']).toBeUndefined();
    await get('/plain').expect(200);
    expect((await get('/plain').expect(200)).body.call).toBe(4);
  });
});

describe('CacheInterceptor with a custom PrincipalResolver', () => {
  it('keys per-user routes by the principal the resolver finds', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [CacheModule.forRoot({
        isGlobal: true,
        rbac: { principalResolver: { resolve: (req) => (typeof req.headers['x-api-key'] === 'string' ? { id: `key-${req.headers['x-api-key']}`, roles: [] } : undefined) } },
      })],
      controllers: [ChartsController],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    const get = (path: string) => request(app.getHttpServer()).get(path);
    const one = await get('/me/library').set('x-api-key', '1').expect(200);
    const two = await get('/me/library').set('x-api-key', '2').expect(200);
    expect(two.body.call).not.toBe(one.body.call);
    expect((await get('/me/library').set('x-api-key', '1').expect(200)).headers['x-cache']).toBe('HIT');
    expect((await get('/me/library').set('x-user', 'ada').expect(200)).headers['x-cache']).toBeUndefined();
    await app.close();
  });
});

@Controller()
@UseInterceptors(CacheInterceptor)
class FeedController {
  calls = 0;

  @Get('feed')
  @CacheRoute({ namespace: 'feed', ttl: 300 })
  feed() {
    return { call: ++this.calls };
  }

  failing = false;

  @Get('resilient-feed')
  @CacheRoute({ namespace: 'feed', ttl: 100 })
  resilientFeed() {
    if (this.failing) throw new ServiceUnavailableException();
    return { call: ++this.calls };
  }

  @Get('flaky-feed')
  @CacheRoute({ namespace: 'flaky' })
  flakyFeed() {
    return { call: ++this.calls };
  }
}

describe('CacheInterceptor on tiered and failing namespaces', () => {
  let app: INestApplication;
  let flaky: FaultInjectionBackendFactory;
  let feed: FeedController;
  const get = (path: string) => request(app.getHttpServer()).get(path);

  beforeEach(async () => {
    flaky = new FaultInjectionBackendFactory(new MapBackendFactory());
    const moduleRef = await Test.createTestingModule({
      imports: [CacheModule.forRoot({
        isGlobal: true,
        backends: { flaky, map: new MapBackendFactory() },
        namespaces: {
          feed: { backend: 'map', ttl: '1h', l1: { ttl: '1m' }, failSafe: { grace: '1h', earlyRefresh: 0.5 } },
          flaky: { backend: 'flaky', ttl: '1m' },
        },
      })],
      controllers: [FeedController],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    feed = app.get(FeedController);
  });
  afterEach(() => app.close());

  it('never runs the handler of a request already answered from the cache (early refresh of a tiered namespace)', async () => {
    await get('/feed').expect(200);
    await new Promise((resolve) => setTimeout(resolve, 200)); // past half of the 300 ms TTL: a hit is due for refresh
    const hit = await get('/feed').expect(200);
    expect(hit.headers['x-cache']).toBe('HIT');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(feed.calls).toBe(1);
  });

  it('answers a failing handler with the stale entry within grace (fail-safe of a tiered namespace)', async () => {
    const fresh = await get('/resilient-feed').expect(200);
    await new Promise((resolve) => setTimeout(resolve, 150)); // past the 100 ms TTL, within the grace
    feed.failing = true;
    const stale = await get('/resilient-feed').expect(200);
    expect(stale.body).toEqual(fresh.body);
    expect(stale.headers['x-cache']).toBe('HIT');
    expect(stale.headers['cache-control']).toBe('public, max-age=0');
  });

  it('answers uncached, with the handler, while the cache is unavailable', async () => {
    flaky.disconnect();
    const first = await get('/flaky-feed').expect(200);
    const second = await get('/flaky-feed').expect(200);
    expect(second.body.call).toBe(first.body.call + 1);
    expect(second.headers['x-cache']).not.toBe('HIT');
    flaky.heal();
    await get('/flaky-feed').expect(200);
    expect((await get('/flaky-feed').expect(200)).headers['x-cache']).toBe('HIT');
  });
});
