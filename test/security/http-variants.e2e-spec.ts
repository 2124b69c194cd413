/**
 * Threat: one client is served a cached response that was made for another variant of the same
 * path. Every dimension that selects a different handler or response must be in the key (or stop
 * caching): the API version (header, media type, custom extractor, URI), the host a host-bound
 * controller answers for, the method, and the request headers a handler names in `Vary`.
 * Each case runs against a real Nest app on Express and on Fastify.
 */
import { Controller, Get, Headers, HostParam, INestApplication, Req, Res, Version, VersioningType, UseInterceptors, VersioningOptions } from '@nestjs/common';
import { CacheInterceptor, CacheModule, CacheRoute } from 'nest-cachekit';
import { createHttpApp, HTTP_ADAPTERS, HttpApp } from '../support/http-app';

let calls = 0;

@Controller('catalog')
@UseInterceptors(CacheInterceptor)
class CatalogV1Controller {
  @Get()
  @Version('1')
  @CacheRoute({ ttl: '1m' })
  list() {
    return { version: 1, call: ++calls };
  }
}

@Controller('catalog')
@UseInterceptors(CacheInterceptor)
class CatalogV2Controller {
  @Get()
  @Version('2')
  @CacheRoute({ ttl: '1m' })
  list() {
    return { version: 2, call: ++calls };
  }
}

/** One handler for two versions that tells them apart itself (from the header Nest routes on). */
@Controller('both')
@UseInterceptors(CacheInterceptor)
class BothVersionsController {
  @Get()
  @Version(['1', '2'])
  @CacheRoute({ ttl: '1m' })
  list(@Headers('x-api-version') version: string) {
    return { version, call: ++calls };
  }
}

type Versioning = 'header' | 'media-type' | 'custom' | 'uri';

const VERSIONING: Record<Versioning, VersioningOptions> = {
  header: { type: VersioningType.HEADER, header: 'X-API-Version' },
  'media-type': { type: VersioningType.MEDIA_TYPE, key: 'v=' },
  custom: { type: VersioningType.CUSTOM, extractor: (req: any) => String(req.headers['x-client-build'] ?? '').split('.')[0] },
  uri: { type: VersioningType.URI },
};

/** How a client asks for version `v` of `/catalog` under each versioning type. */
function versioned(type: Versioning, v: string): { url: string; headers?: Record<string, string> } {
  switch (type) {
    case 'header': return { url: '/catalog', headers: { 'x-api-version': v } };
    case 'media-type': return { url: '/catalog', headers: { accept: `application/json;v=${v}` } };
    case 'custom': return { url: '/catalog', headers: { 'x-client-build': `${v}.4.1` } };
    case 'uri': return { url: `/v${v}/catalog` };
  }
}

describe.each(HTTP_ADAPTERS)('HTTP variants on %s', (adapter) => {
  describe.each(['header', 'media-type', 'custom', 'uri'] as const)('%s versioning', (type) => {
    let http: HttpApp;
    beforeEach(async () => {
      http = await createHttpApp(adapter, {
        imports: [CacheModule.forRoot({ isGlobal: true })],
        controllers: [CatalogV1Controller, CatalogV2Controller, BothVersionsController],
      }, (app: INestApplication) => app.enableVersioning(VERSIONING[type]));
    });
    afterEach(() => http.close());

    it('never serves the response of one version to a client of another', async () => {
      const v1 = await http.send(versioned(type, '1'));
      expect(v1.body).toMatchObject({ version: 1 });
      const v2 = await http.send(versioned(type, '2'));
      expect(v2.status).toBe(200);
      expect(v2.body).toMatchObject({ version: 2 });
      const again = await http.send(versioned(type, '1'));
      expect(again.headers['x-cache']).toBe('HIT');
      expect(again.body).toEqual(v1.body);
      expect((await http.send(versioned(type, '2'))).body).toEqual(v2.body);
    });

    if (type === 'header') {
      it('keys a handler that serves several versions by the version asked for', async () => {
        const one = await http.send({ url: '/both', headers: { 'x-api-version': '1' } });
        const two = await http.send({ url: '/both', headers: { 'x-api-version': '2' } });
        expect(one.body).toMatchObject({ version: '1' });
        expect(two.body).toMatchObject({ version: '2' });
        expect((await http.send({ url: '/both', headers: { 'x-api-version': '2' } })).headers['x-cache']).toBe('HIT');
      });
    }
  });

  describe('host-bound controllers, Vary and the method', () => {
    @Controller({ host: ':tenant.example.test', path: 'invoices' })
    @UseInterceptors(CacheInterceptor)
    class InvoicesController {
      @Get()
      @CacheRoute({ ttl: '1m' })
      list(@HostParam('tenant') tenant: string) {
        return { tenant, invoices: [`${tenant}-0001`], call: ++calls };
      }
    }

    @Controller()
    @UseInterceptors(CacheInterceptor)
    class NegotiatingController {
      @Get('greeting')
      @CacheRoute({ ttl: '1m' })
      greeting(@Headers('accept-language') language: string | undefined, @Res({ passthrough: true }) res: { header(n: string, v: string): unknown }) {
        res.header('Vary', 'Accept-Language');
        return { greeting: language?.startsWith('fr') ? 'bonjour' : 'hello', call: ++calls };
      }

      @Get('everything')
      @CacheRoute({ ttl: '1m' })
      everything(@Res({ passthrough: true }) res: { header(n: string, v: string): unknown }) {
        res.header('Vary', '*');
        return { call: ++calls };
      }

      @Get('method')
      @CacheRoute({ ttl: '1m' })
      method(@Req() req: { method: string }, @Res({ passthrough: true }) res: { header(n: string, v: string): unknown }) {
        res.header('X-Seen-Method', req.method);
        return { method: req.method, call: ++calls };
      }
    }

    let http: HttpApp;
    beforeEach(async () => {
      http = await createHttpApp(adapter, {
        imports: [CacheModule.forRoot({ isGlobal: true })],
        controllers: [InvoicesController, NegotiatingController],
      });
    });
    afterEach(() => http.close());

    it('never serves one tenant\'s response to another tenant of a host-bound controller', async () => {
      const a = await http.send({ url: '/invoices', headers: { host: 'acme.example.test' } });
      expect(a.body).toMatchObject({ tenant: 'acme' });
      const b = await http.send({ url: '/invoices', headers: { host: 'globex.example.test' } });
      expect(b.body).toMatchObject({ tenant: 'globex', invoices: ['globex-0001'] });
      const again = await http.send({ url: '/invoices', headers: { host: 'acme.example.test' } });
      expect(again.headers['x-cache']).toBe('HIT');
      expect(again.body).toEqual(a.body);
    });

    it('keys a response by the request headers its Vary names, learnt on the first miss', async () => {
      const en = await http.send({ url: '/greeting', headers: { 'accept-language': 'en-GB' } });
      expect(en.body).toMatchObject({ greeting: 'hello' });
      const fr = await http.send({ url: '/greeting', headers: { 'accept-language': 'fr-FR' } });
      expect(fr.body).toMatchObject({ greeting: 'bonjour' });
      const enAgain = await http.send({ url: '/greeting', headers: { 'accept-language': 'en-GB' } });
      expect(enAgain.body).toMatchObject({ greeting: 'hello' });
      const frAgain = await http.send({ url: '/greeting', headers: { 'accept-language': 'fr-FR' } });
      expect(frAgain.headers['x-cache']).toBe('HIT');
      expect(frAgain.body).toEqual(fr.body);
      expect(frAgain.headers.vary).toMatch(/accept-language/i);
      expect((await http.send({ url: '/greeting', headers: { 'accept-language': 'en-GB' } })).headers['x-cache']).toBe('HIT');
    });

    it('does not cache a response that varies on everything (Vary: *)', async () => {
      const first = await http.send('/everything');
      const second = await http.send('/everything');
      expect(second.body.call).toBe(first.body.call + 1);
      expect(second.headers['x-cache']).not.toBe('HIT');
    });

    it('keeps HEAD and GET apart', async () => {
      const head = await http.send({ method: 'HEAD', url: '/method' });
      expect(head.status).toBe(200);
      expect(head.headers['x-seen-method']).toBe('HEAD');
      const get = await http.send('/method');
      expect(get.body).toMatchObject({ method: 'GET' });
      expect(get.headers['x-seen-method']).toBe('GET');
      const headAgain = await http.send({ method: 'HEAD', url: '/method' });
      expect(headAgain.text).toBe('');
      expect((await http.send('/method')).body).toEqual(get.body);
    });
  });
});
