import { InvalidTtlError } from '../errors/invalid-ttl.error';
import { parseTtl } from './parse-ttl';

const TEN_YEARS_MS = 10 * 365 * 86_400_000;

function rejection(ttl: unknown, where = 'namespaces.users.ttl'): InvalidTtlError {
  try {
    parseTtl(ttl, where);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidTtlError);
    return error as InvalidTtlError;
  }
  throw new Error(`parseTtl(${String(ttl)}) did not throw`);
}

describe('parseTtl', () => {
  describe('numbers of milliseconds', () => {
    it.each([0, 1, 500, 60_000, TEN_YEARS_MS])('returns %p unchanged', (ms) => {
      expect(parseTtl(ms, 'ttl')).toBe(ms);
    });

    it('treats 0 as "no expiry" and returns it as 0', () => {
      expect(parseTtl(0, 'ttl')).toBe(0);
    });

    it.each([
      ['a negative number', -1],
      ['NaN', NaN],
      ['Infinity', Infinity],
      ['-Infinity', -Infinity],
      ['a non-integer', 1.5],
      ['one millisecond over the 10-year maximum', TEN_YEARS_MS + 1],
    ])('rejects %s', (_label, ms) => {
      expect(rejection(ms).code).toBe('CACHE_INVALID_TTL');
    });
  });

  describe('duration strings', () => {
    it.each([
      ['500ms', 500],
      ['30s', 30_000],
      ['5m', 300_000],
      ['1h', 3_600_000],
      ['1d', 86_400_000],
      ['1w', 604_800_000],
      ['1h30m', 5_400_000],
      ['1.5s', 1_500],
      ['2m500ms', 120_500],
      ['3650d', TEN_YEARS_MS],
    ])('parses %p as %p ms', (text, ms) => {
      expect(parseTtl(text, 'ttl')).toBe(ms);
    });

    it('returns the same result when the same string is parsed again', () => {
      expect(parseTtl('45s', 'a')).toBe(45_000);
      expect(parseTtl('45s', 'b')).toBe(45_000);
    });

    it.each([
      ['the empty string', ''],
      ['a number without a unit', '10'],
      ['a spelled-out unit with a space', '1 hour'],
      ['a zero duration', '0s'],
      ['a duration that rounds to zero', '0.4ms'],
      ['letters only', 'abc'],
      ['an upper-case unit', '1H'],
      ['a negative duration', '-5s'],
      ['surrounding whitespace', ' 5s'],
      ['a trailing newline', '5s\n'],
      ['a duration over the 10-year maximum', '3651d'],
    ])('rejects %s', (_label, text) => {
      expect(rejection(text).code).toBe('CACHE_INVALID_TTL');
    });
  });

  describe('other types', () => {
    it.each([
      ['null', null],
      ['undefined', undefined],
      ['an object', { ms: 1000 }],
      ['an array', [1000]],
      ['a boolean', true],
      ['a bigint', 1000n],
    ])('rejects %s', (_label, ttl) => {
      expect(rejection(ttl).code).toBe('CACHE_INVALID_TTL');
    });

    it('says null rather than "object" for null', () => {
      expect(rejection(null).reason).toContain('null');
    });
  });

  describe('error message', () => {
    it.each([[-1], ['1 hour'], [null], ['0s'], [TEN_YEARS_MS + 1]])('names the `where` argument for %p', (ttl) => {
      const error = rejection(ttl, 'namespaces.sessions.ttl');
      expect(error.where).toBe('namespaces.sessions.ttl');
      expect(error.message).toContain('namespaces.sessions.ttl');
    });
  });
});
