import { VERSION_NEUTRAL, VersioningType } from '@nestjs/common';
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { HttpExchange } from './http-exchange';
import { declaredVersions, requestedVersion, routeKey, RouteVariant, VERSION_UNKNOWN, varyKey } from './route-variant';

const base: RouteVariant = {
  method: 'GET',
  handler: 'ChartsController.charts',
  route: '/charts/:country',
  paths: ['/charts/fr'],
  params: { country: 'fr' },
  query: { page: '1' },
};

/** A Node request with these headers, as Express hands it to Nest. */
function expressRequest(headers: Record<string, string>): IncomingMessage {
  const request = new IncomingMessage(new Socket());
  request.method = 'GET';
  request.headers = headers;
  return request;
}

describe('routeKey', () => {
  it('is the same for the same variant, whatever the order of parameters', () => {
    expect(routeKey({ ...base, params: { b: '2', a: '1' } })).toBe(routeKey({ ...base, params: { a: '1', b: '2' } }));
  });

  it('differs in every dimension that selects a handler or shapes the response', () => {
    const variants: RouteVariant[] = [
      base,
      { ...base, method: 'HEAD' },
      { ...base, handler: 'ChartsV2Controller.charts' },
      { ...base, route: '/v2/charts/:country' },
      { ...base, paths: ['/charts/FR'] },
      { ...base, params: { country: 'de' } },
      { ...base, query: { page: '2' } },
      { ...base, query: {} },
      { ...base, host: { name: 'acme.example.test', params: { tenant: 'acme' } } },
      { ...base, host: { name: 'globex.example.test', params: { tenant: 'globex' } } },
      { ...base, version: { declared: ['1'], requested: '1' } },
      { ...base, version: { declared: ['1', '2'], requested: '2' } },
      { ...base, version: { declared: ['1', '2'], requested: undefined } },
      { ...base, principal: { id: 'ada' } },
      { ...base, principal: { id: 'lin' } },
      { ...base, principal: { id: 'ada', tenant: 'acme' } },
      { ...base, principal: { id: 'ada', tenant: 'globex' } },
      { ...base, principal: { id: 'ada@acme' } },
    ];
    const keys = variants.map(routeKey);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('cannot be forged across fields by values holding separators', () => {
    const a = routeKey({ ...base, params: { country: 'fr"],["page","1' }, query: {} });
    const b = routeKey({ ...base, params: { country: 'fr' }, query: { page: '1' } });
    expect(a).not.toBe(b);
    expect(routeKey({ ...base, principal: { id: 'a|user=b' } })).not.toBe(routeKey({ ...base, principal: { id: 'a' }, query: { '|user': 'b' } }));
  });

  it('hashes keys that are long or hold anything but printable ASCII, and keeps others readable', () => {
    expect(routeKey(base)).toMatch(/^http:\[/);
    expect(routeKey(base)).toContain('ChartsController.charts');
    for (const variant of [{ ...base, query: { q: 'x'.repeat(600) } }, { ...base, params: { country: 'café' } }, { ...base, params: { country: 'a\u200bb' } }]) {
      expect(routeKey(variant)).toMatch(/^http:sha256:[A-Za-z0-9_-]{43}$/);
    }
    expect(routeKey({ ...base, params: { country: 'café' } })).not.toBe(routeKey({ ...base, params: { country: 'cafe' } }));
  });
});

describe('varyKey', () => {
  const route = routeKey(base);
  const headers = (values: Record<string, string>) => (name: string) => values[name];

  it('holds the Vary names and this request\'s values for them', () => {
    const en = varyKey(route, ['accept-language'], headers({ 'accept-language': 'en' }));
    const fr = varyKey(route, ['accept-language'], headers({ 'accept-language': 'fr' }));
    const none = varyKey(route, ['accept-language'], headers({}));
    const empty = varyKey(route, ['accept-language'], headers({ 'accept-language': '' }));
    expect(new Set([en, fr, none, empty, route]).size).toBe(5);
    expect(varyKey(route, ['accept-language', 'origin'], headers({ 'accept-language': 'en' }))).not.toBe(en);
  });

  it('never equals a route key, and stays bounded for long values', () => {
    const long = varyKey(route, ['x-long'], headers({ 'x-long': 'y'.repeat(2000) }));
    expect(long.length).toBeLessThanOrEqual(route.length + 80);
    expect(long).not.toBe(varyKey(route, ['x-long'], headers({ 'x-long': 'y'.repeat(1999) })));
  });

  it('never writes the values out: credentials named by Vary stay out of key names', () => {
    const key = varyKey(route, ['authorization', 'cookie'], headers({ authorization: 'Bearer s3cr3t-token', cookie: 'sid=s3cr3t-session' }));
    expect(key).not.toContain('s3cr3t');
    expect(key).toContain('authorization');
  });
});

describe('declaredVersions', () => {
  it('takes the handler\'s versions, else the controller\'s, else the default', () => {
    const versioning = { type: VersioningType.HEADER, header: 'X-API-Version', defaultVersion: '1' } as const;
    expect(declaredVersions(['2', '3'], '1', versioning)).toEqual(['2', '3']);
    expect(declaredVersions(undefined, '4', versioning)).toEqual(['4']);
    expect(declaredVersions(undefined, undefined, versioning)).toEqual(['1']);
    expect(declaredVersions(VERSION_NEUTRAL, undefined, versioning)).toEqual(['(neutral)']);
    expect(declaredVersions(undefined, undefined, { type: VersioningType.URI })).toEqual([]);
  });
});

describe('requestedVersion', () => {
  const exchange = (headers: Record<string, string>) => new HttpExchange(expressRequest(headers), {});

  it('reads what the router reads for each versioning type', () => {
    expect(requestedVersion({ type: VersioningType.HEADER, header: 'X-API-Version' }, exchange({ 'x-api-version': '2' }))).toBe('2');
    expect(requestedVersion({ type: VersioningType.MEDIA_TYPE, key: 'v=' }, exchange({ accept: 'application/json;v=2' }))).toBe('v=2');
    expect(requestedVersion({ type: VersioningType.MEDIA_TYPE, key: 'v=' }, exchange({ accept: 'application/json' }))).toBeUndefined();
    expect(requestedVersion({ type: VersioningType.URI }, exchange({ 'x-api-version': '2' }))).toBeUndefined();
    const custom = { type: VersioningType.CUSTOM, extractor: (req: any) => [String(req.headers['x-build']).split('.')[0]] } as const;
    expect(requestedVersion(custom, exchange({ 'x-build': '3.1' }))).toEqual(['3']);
  });

  it('gives VERSION_UNKNOWN when a custom extractor throws (the request is answered uncached)', () => {
    const throwing = { type: VersioningType.CUSTOM, extractor: () => { throw new Error('no version'); } } as const;
    expect(requestedVersion(throwing, exchange({}))).toBe(VERSION_UNKNOWN);
  });
});
