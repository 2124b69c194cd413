/**
 * The pure parts of the HTTP caching: query strings rewritten from the kept parameters, Vary and
 * Cache-Control reading, entity tags and If-None-Match.
 */
import { parse as parseQueryString } from 'node:querystring';
import { varyNames } from './cached-response';
import { ifNoneMatchMatches, strongEtag } from './conditional-get';
import { queryString, withQuery } from './query-allowlist';

describe('queryString', () => {
  it('writes what Node\'s parser (Express\'s default, and Fastify\'s) reads back as the kept values', () => {
    const kept = { page: '2', tag: ['a', 'b c', 'd&e=f'], q: 'é/?#' };
    expect({ ...parseQueryString(queryString(kept)) }).toEqual(kept);
  });

  it('writes nested values (qs) in bracket notation and leaves out what no parser makes', () => {
    expect(queryString({ filter: { year: '2024', genre: ['rock', 'pop'] } })).toBe('filter[year]=2024&filter[genre]=rock&filter[genre]=pop');
    expect(queryString({ a: null, b: undefined, c: () => 1, d: '1' })).toBe('d=1');
    expect(queryString({})).toBe('');
  });

  it('replaces only the query string of a URL', () => {
    expect(withQuery('/echo?page=1&x=2', 'page=1')).toBe('/echo?page=1');
    expect(withQuery('/echo?x=2', '')).toBe('/echo');
    expect(withQuery('/echo', 'page=1')).toBe('/echo?page=1');
  });
});

describe('varyNames', () => {
  it('lower-cases, de-duplicates and sorts the names, across repeated headers', () => {
    expect(varyNames('Accept-Language, origin')).toEqual(['accept-language', 'origin']);
    expect(varyNames(['Origin', 'accept-language,ORIGIN'])).toEqual(['accept-language', 'origin']);
    expect(varyNames(undefined)).toEqual([]);
    expect(varyNames(' , ')).toEqual([]);
  });

  it('is * when any member is *', () => {
    expect(varyNames('Origin, *')).toBe('*');
  });
});

describe('strongEtag', () => {
  it('is a quoted, strong tag that changes with the body and the content type', () => {
    const tag = strongEtag({ a: 1 }, undefined);
    expect(tag).toMatch(/^"[A-Za-z0-9_-]{43}"$/);
    expect(strongEtag({ a: 1 }, undefined)).toBe(tag);
    expect(strongEtag({ a: 2 }, undefined)).not.toBe(tag);
    expect(strongEtag({ a: 1 }, 'text/csv')).not.toBe(tag);
    expect(strongEtag('{"a":1}', undefined)).not.toBe(tag);
    expect(strongEtag(Buffer.from('x'), undefined)).not.toBe(strongEtag('x', undefined));
  });
});

describe('ifNoneMatchMatches (RFC 9110 13.1.2, weak comparison)', () => {
  const etag = '"abc"';

  it('matches the tag, weak or strong, alone or in a list, and *', () => {
    for (const header of ['"abc"', 'W/"abc"', '"x", "abc"', 'W/"x",W/"abc" ', '*', ' * ']) expect(ifNoneMatchMatches(header, etag)).toBe(true);
  });

  it('matches nothing else', () => {
    for (const header of [undefined, '', '"ab"', '"abcd"', 'abc', 'W/abc', '"x", *y']) expect(ifNoneMatchMatches(header, etag)).toBe(false);
  });
});
