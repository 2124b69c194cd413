/**
 * Threat: a route cached in a namespace scoped per user (or tenant) without `perUser` on the route.
 * The namespace keys each caller's responses apart, so the cache itself never mixes them; but what
 * the response tells the caches downstream (a CDN, a corporate proxy) must say the same: were it sent
 * `Cache-Control: public`, the proxy would hand user A's response to user B at the same URL. Such
 * responses go out `private`; a caller the namespace cannot key (anonymous) gets the handler's answer
 * uncached, as `BYPASS`, never marked shareable.
 */
import { CanActivate, Controller, ExecutionContext, Get, Injectable, UseGuards, UseInterceptors } from '@nestjs/common';
import { CacheInterceptor, CacheModule, CacheRoute } from 'nest-cachekit';
import { createHttpApp, HTTP_ADAPTERS, HttpApp } from '../support/http-app';

@Injectable()
class HeaderAuthGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest();
    const id = request.headers['x-user'];
    if (typeof id === 'string') request.user = { id, tenant: request.headers['x-tenant'] };
    return true;
  }
}

@Controller()
@UseGuards(HeaderAuthGuard)
@UseInterceptors(CacheInterceptor)
class DashboardController {
  private calls = 0;

  @Get('dashboard')
  @CacheRoute({ namespace: 'dashboards', ttl: '1m' })
  dashboard() {
    return { call: ++this.calls };
  }

  @Get('tenant-report')
  @CacheRoute({ namespace: 'tenantReports', ttl: '1m' })
  tenantReport() {
    return { call: ++this.calls };
  }
}

describe.each(HTTP_ADAPTERS)('routes cached in a namespace scoped per user or tenant, on %s', (adapter) => {
  let http: HttpApp;

  beforeEach(async () => {
    http = await createHttpApp(adapter, {
      imports: [CacheModule.forRoot({ isGlobal: true, namespaces: { dashboards: { scope: 'user' }, tenantReports: { scope: 'tenant' } } })],
      controllers: [DashboardController],
      providers: [HeaderAuthGuard],
    });
  });
  afterEach(() => http.close());

  it.each([
    ['/dashboard', { 'x-user': 'alice' }, { 'x-user': 'bob' }],
    ['/tenant-report', { 'x-user': 'alice', 'x-tenant': 'acme' }, { 'x-user': 'eve', 'x-tenant': 'globex' }],
  ])('keeps %s apart per owner and never tells a shared cache downstream it may keep it', async (url, owner, other) => {
    const miss = await http.send({ url, headers: owner });
    const hit = await http.send({ url, headers: owner });
    const others = await http.send({ url, headers: other });
    expect([miss.headers['x-cache'], hit.headers['x-cache'], others.headers['x-cache']]).toEqual(['MISS', 'HIT', 'MISS']);
    expect(hit.body).toEqual(miss.body);
    expect(others.body).not.toEqual(miss.body);
    for (const answer of [miss, hit, others]) {
      expect(answer.headers['cache-control']).toMatch(/^private, max-age=\d+$/);
    }
  });

  it('answers a caller the namespace cannot key (anonymous) uncached, as BYPASS, not marked shareable', async () => {
    const first = await http.send('/dashboard');
    const second = await http.send('/dashboard');
    expect(first.status).toBe(200);
    expect(second.body.call).toBe(first.body.call + 1);
    for (const answer of [first, second]) {
      expect(answer.headers['x-cache']).toBe('BYPASS');
      expect(String(answer.headers['cache-control'] ?? '')).not.toMatch(/public|max-age/);
    }
  });
});
