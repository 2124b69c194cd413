/**
 * Threat: a multi-tenant app whose user ids are unique only within a tenant (user "1" of acme and
 * user "1" of globex are two people), or one person who is a member of several tenants and switches
 * between them. Entries of a namespace scoped per user and responses of a `perUser` route belong to
 * the principal in its tenant: were they keyed by the user id alone, globex's user 1 would be served
 * acme's user 1's data. A principal that carries a tenant owns its per-user entries in that tenant.
 */
import { CanActivate, Controller, ExecutionContext, Get, Injectable, Req, UseGuards, UseInterceptors } from '@nestjs/common';
import { CacheInterceptor, CacheModule, CacheRoute, CacheService } from 'nest-cachekit';
import { createHttpApp, HTTP_ADAPTERS, HttpApp } from '../support/http-app';

@Injectable()
class HeaderAuthGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest();
    if (typeof req.headers['x-user'] === 'string') req.user = { id: req.headers['x-user'], tenant: req.headers['x-tenant'] };
    return true;
  }
}

@Controller()
@UseGuards(HeaderAuthGuard)
@UseInterceptors(CacheInterceptor)
class InboxController {
  private calls = 0;

  constructor(private readonly cache: CacheService) {}

  /** Cached per user by the route. */
  @Get('inbox')
  @CacheRoute({ ttl: '1m', perUser: true })
  inbox(@Req() req: { headers: Record<string, string> }) {
    return { tenant: req.headers['x-tenant'], call: ++this.calls };
  }

  /** Cached in a namespace scoped per user. */
  @Get('settings')
  settings(@Req() req: { headers: Record<string, string> }) {
    return this.cache.namespace('settings').getOrSet('settings', async () => ({ tenant: req.headers['x-tenant'], call: ++this.calls }));
  }
}


describe.each(HTTP_ADAPTERS)('per-user entries of principals with a tenant, on %s', (adapter) => {
  let http: HttpApp;

  beforeEach(async () => {
    http = await createHttpApp(adapter, {
      imports: [CacheModule.forRoot({ isGlobal: true, namespaces: { settings: { scope: 'user' } } })],
      controllers: [InboxController],
      providers: [HeaderAuthGuard],
    });
  });
  afterEach(() => http.close());

  it.each(['/inbox', '/settings'])('%s: user 1 of globex never gets user 1 of acme\'s entry', async (url) => {
    const acme = await http.send({ url, headers: { 'x-user': '1', 'x-tenant': 'acme' } });
    expect((await http.send({ url, headers: { 'x-user': '1', 'x-tenant': 'acme' } })).body).toEqual(acme.body);
    const globex = await http.send({ url, headers: { 'x-user': '1', 'x-tenant': 'globex' } });
    expect(globex.body.tenant).toBe('globex');
    expect(globex.body.call).not.toBe(acme.body.call);
  });

  it('keeps a user without a tenant apart from a tenant\'s user whose id and tenant read the same', async () => {
    const plain = await http.send({ url: '/settings', headers: { 'x-user': '1@acme' } });
    const tenant = await http.send({ url: '/settings', headers: { 'x-user': '1', 'x-tenant': 'acme' } });
    expect(tenant.body.call).not.toBe(plain.body.call);
  });
});
