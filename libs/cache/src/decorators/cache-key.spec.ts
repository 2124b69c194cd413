import { canonicalKey } from '../keys/canonical-key';
import { CacheDecoratorError, compileKey, defaultKey, encodeKeyPart, formatCacheKey, MethodRef } from './cache-key';
import { InvalidArgumentError } from '../errors/invalid-argument.error';

const method = (...parameterNames: string[]): MethodRef => ({ className: 'S', methodName: 'm', parameterNames });
const template = (spec: string, ...parameterNames: string[]) => compileKey(spec, method(...parameterNames), 'Cacheable');

/** A small deterministic generator (mulberry32), so that a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Strings made of what breaks naive keys: separators, escapes, look-alikes, controls, surrogates. */
const ALPHABET = ['a', 'Z', '4', '2', ':', '%', '%3A', '3A', '/', '-', '.', '_', '~', '{', '}', ',', ')', '(', '"', '\\', ' ', '\n', '\u007f', '\u200b', 'é', 'e\u0301', '日', '🙂', '\ud800', '\udc00', 'orders', '%25', '%FF'];
function strings(count: number, seed: number): string[] {
  const next = random(seed);
  const out = new Set<string>(['', 'alice', 'alice:orders', 'alice%3Aorders', '42', '%FF', '%FFnull', 'null', '1e+21']);
  while (out.size < count) {
    let s = '';
    const length = Math.floor(next() * 6);
    for (let i = 0; i < length; i++) s += ALPHABET[Math.floor(next() * ALPHABET.length)];
    out.add(s);
  }
  return [...out];
}

describe('encodeKeyPart', () => {
  it.each([
    ['an ordinary id', '42', '42'],
    ['a UUID', '6f1c1d2e-8b7a-4c3d-9e0f-1a2b3c4d5e6f', '6f1c1d2e-8b7a-4c3d-9e0f-1a2b3c4d5e6f'],
    ['unreserved punctuation', 'a.b_c~d', 'a.b_c~d'],
    ['the separator', 'alice:orders', 'alice%3Aorders'],
    ['the escape character', '100%', '100%25'],
    ['an escape already written', 'alice%3Aorders', 'alice%253Aorders'],
    ['URL punctuation, spaces and braces', "a b/c?d=e&f#{g}!*'()", 'a%20b%2Fc%3Fd%3De%26f%23%7Bg%7D%21%2A%27%28%29'],
    ['a control character', 'a\nb', 'a%0Ab'],
    ['DEL and a C1 control', '\u007f\u0085', '%7F%C2%85'],
    ['an invisible character', 'a\u200bb', 'a%E2%80%8Bb'],
    ['accented text, in NFC whatever the spelling', 'cafe\u0301', 'caf%C3%A9'],
    ['a character outside the BMP', '🙂', '%F0%9F%99%82'],
    ['a lone surrogate, as its WTF-8 bytes', 'a\ud800', 'a%ED%A0%80'],
    ['the empty string', '', ''],
  ])('encodes %s', (_what, value, encoded) => {
    expect(encodeKeyPart(value)).toBe(encoded);
  });

  it('agrees with encodeURIComponent on well-formed NFC text, with !\'()* escaped too', () => {
    for (const s of strings(2000, 7)) {
      if (/[\ud800-\udfff]/.test(s.replace(/[\ud800-\udbff][\udc00-\udfff]/g, ''))) continue;
      const nfc = s.normalize('NFC');
      expect(encodeKeyPart(s)).toBe(encodeURIComponent(nfc).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`));
    }
  });

  it('never gives two strings one text, unless they are one string in NFC', () => {
    const seen = new Map<string, string>();
    for (const s of strings(5000, 1)) {
      const encoded = encodeKeyPart(s);
      expect(encoded).toMatch(/^(?:[A-Za-z0-9\-._~]|%[0-9A-F]{2})*$/);
      const other = seen.get(encoded);
      if (other !== undefined) expect(other.normalize('NFC')).toBe(s.normalize('NFC'));
      seen.set(encoded, s);
    }
  });

  it('writes numbers, booleans and bigints as their String(), so 42, 42n and "42" are one key', () => {
    expect(encodeKeyPart(42)).toBe('42');
    expect(encodeKeyPart(42n)).toBe('42');
    expect(encodeKeyPart(-1.5)).toBe('-1.5');
    expect(encodeKeyPart(1e21)).toBe('1e%2B21');
    expect(encodeKeyPart(true)).toBe('true');
    expect(encodeKeyPart(new Date(0))).toBe('1970-01-01T00%3A00%3A00.000Z');
    expect(encodeKeyPart(new Date(Number.NaN))).toBe('Invalid%20Date');
  });

  it('marks objects, arrays and null with %FF, which no string encodes to: an object cannot forge a string\'s key', () => {
    expect(encodeKeyPart({ b: 2, a: 'x:y' })).toBe('%FF%7B%22a%22%3A%22x%3Ay%22%2C%22b%22%3A2%7D');
    expect(encodeKeyPart(null)).toBe('%FFnull');
    expect(encodeKeyPart([1, 2])).toBe('%FF%5B1%2C2%5D');
    const structured = [{ a: 1 }, ['x'], null, new Map([['k', 1]]), new Set([1])];
    const texts = new Set(strings(3000, 3).map(encodeKeyPart));
    for (const value of structured) {
      expect(texts.has(encodeKeyPart(value))).toBe(false);
      // Not even the string that spells its JSON form, nor that form with the marker.
      expect(encodeKeyPart(JSON.stringify(value))).not.toBe(encodeKeyPart(value));
      expect(encodeKeyPart(encodeKeyPart(value))).not.toBe(encodeKeyPart(value));
    }
    expect(encodeKeyPart('null')).toBe('null');
  });

  it('refuses functions, symbols and undefined', () => {
    expect(() => encodeKeyPart(() => 1)).toThrow('a key cannot hold a function');
    expect(() => encodeKeyPart(Symbol('s'))).toThrow(InvalidArgumentError);
    expect(() => encodeKeyPart(undefined)).toThrow(InvalidArgumentError);
  });
});

describe('key templates', () => {
  it('keeps ordinary keys readable and encodes each value', () => {
    expect(template('user:{id}', 'id')(['42'])).toBe('user:42');
    expect(template('user:{id}', 'id')([42])).toBe('user:42');
    expect(template('user:{id}:orders', 'id')(['alice'])).toBe('user:alice:orders');
    expect(template('user:{id}', 'id')(['alice:orders'])).toBe('user:alice%3Aorders');
    expect(template('profile:{user.id}:{1}', 'user', 'lang')([{ id: 'a/b' }, 'en'])).toBe('profile:a%2Fb:en');
    expect(template('{{literal}}:{0}', 'x')(['{y}'])).toBe('{literal}:%7By%7D');
    expect(template('static', 'x')(['ignored'])).toBe('static');
  });

  it('gives keys that two templates differing in their separators can never share (user:{id} vs user:{id}:orders)', () => {
    const profile = template('user:{id}', 'id');
    const orders = template('user:{id}:orders', 'id');
    const ids = strings(3000, 11);
    const profileKeys = new Set(ids.map((id) => profile([id])));
    for (const id of ids) expect(profileKeys.has(orders([id]))).toBe(false);
  });

  it('is injective over the values of one template, whatever they hold (modulo NFC and 42 = "42")', () => {
    const build = template('a:{x}/{y}|{z}', 'x', 'y', 'z');
    const values = strings(40, 5);
    const seen = new Map<string, string>();
    for (const x of values) for (const y of values) for (const z of values.slice(0, 10)) {
      const key = build([x, y, z]);
      const id = JSON.stringify([x, y, z].map((v) => v.normalize('NFC')));
      const other = seen.get(key);
      if (other !== undefined) expect(other).toBe(id);
      seen.set(key, id);
    }
    expect(seen.size).toBeGreaterThan(10_000);
  });

  it('gives keys that only need canonicalKey for their length: no character of a value is ever refused', () => {
    for (const id of strings(2000, 13)) {
      const key = template('user:{id}', 'id')([id]);
      expect(canonicalKey(key, 'ns', 10_000, 'ascii')).toBe(key);
    }
  });

  it.each([
    ['two placeholders with nothing between them', '{a}{b}', "{a} is directly followed by another placeholder; put a separator such as ':' between them"],
    ['a placeholder followed by a hyphen', 'range:{a}-{b}', "{a} is followed by '-', which a value may hold"],
    ['a placeholder followed by a dot', 'user.{a}.orders', "{a} is followed by '.', which a value may hold"],
    ['a placeholder followed by a letter', 'v{a}x', "{a} is followed by 'x', which a value may hold"],
    ['a placeholder followed by a digit', '{a}2', "{a} is followed by '2'"],
    ['a placeholder followed by %', '{a}%', "{a} is followed by '%'"],
    ['a placeholder followed by ~ or _', 'x:{a}_{b}', "{a} is followed by '_'"],
  ])('refuses %s when the class is defined, naming the method', (_what, spec, message) => {
    expect(() => template(spec, 'a', 'b')).toThrow(CacheDecoratorError);
    expect(() => template(spec, 'a', 'b')).toThrow(`@Cacheable on S.m: in key template '${spec}', ${message}`);
  });

  it.each(['{a}:{b}', '{a}/{b}', '{a}|{b}', '{a}#{b}', '{a} {b}', '{a}={b}', '{a}{{x}}', 'x-{a}', 'x.{a}', '{a}', '{a}→{b}'])('accepts %s', (spec) => {
    expect(() => template(spec, 'a', 'b')).not.toThrow();
  });

  it('names the placeholder whose value cannot be written', () => {
    const build = template('f:{a}', 'a');
    expect(() => build([() => 1])).toThrow("@Cacheable on S.m: key template 'f:{a}': {a} cannot be written in a key (a key cannot hold a function)");
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(() => build([circular])).toThrow('an argument is circular');
  });
});

describe('formatCacheKey', () => {
  it('gives the key the decorators build, by name or by position', () => {
    const values = ['42', 'alice:orders', 'a b', 7, { id: 'x' }];
    for (const id of values) {
      expect(formatCacheKey('user:{id}:orders', { id })).toBe(template('user:{id}:orders', 'id')([id]));
      expect(formatCacheKey('user:{0}:orders', [id])).toBe(template('user:{id}:orders', 'id')([id]));
    }
    expect(formatCacheKey('profile:{user.id}:{lang}', { user: { id: 'a:b' }, lang: 'en' })).toBe('profile:a%3Ab:en');
  });

  it('refuses the templates the decorators refuse, and missing values', () => {
    expect(() => formatCacheKey('{a}{b}', { a: 1, b: 2 })).toThrow('formatCacheKey: in key template');
    expect(() => formatCacheKey('user:{id}', {})).toThrow("formatCacheKey: key template 'user:{id}' refers to {id}, which is not a parameter");
    expect(() => formatCacheKey('user:{id}', { id: undefined })).toThrow('{id} is undefined');
    expect(() => formatCacheKey('', {})).toThrow('the template must be a non-empty string');
  });
});

describe('defaultKey', () => {
  const ref = { className: 'S', methodName: 'm' };

  it('never gives two different argument lists one key, whatever their strings hold (",", ")", quotes, escapes)', () => {
    const texts = strings(300, 17);
    const lists: unknown[][] = [[], [undefined], [null], ['null'], [1], ['1'], [1n], ['1n'], [true], ['true'], [[1, 2]], [1, 2], ['1,2'], ['1', '2'],
      [{ a: 1 }], ['{"a":1}'], [new Map([['a', 1]])], [new Set([1])], [[]], [{}], ['a,b'], ['a', 'b'], ['a)(b'], ['a")("b'], ['a\\', 'b'], ['a\\",\\"b']];
    for (const a of texts) {
      lists.push([a]);
      lists.push([a, a]);
      lists.push([{ [a]: a }]);
      lists.push([[a]]);
    }
    for (let i = 0; i + 1 < texts.length; i += 2) lists.push([texts[i], texts[i + 1]], [`${texts[i]},${texts[i + 1]}`], [`${texts[i]}","${texts[i + 1]}`]);
    const seen = new Map<string, string>();
    for (const args of lists) {
      const key = canonicalKeyOrRaw(defaultKey(ref, args));
      const id = identity(args);
      const other = seen.get(key);
      if (other !== undefined) expect(other).toBe(id);
      seen.set(key, id);
    }
  });
});

/** The default key as a namespace stores it (NFC), or as built when the namespace would refuse it. */
function canonicalKeyOrRaw(key: string): string {
  try {
    return canonicalKey(key, 'ns', 10_000);
  } catch {
    return key;
  }
}

/** What makes two argument lists the same call for the default key: their values, strings in NFC. */
function identity(args: unknown[]): string {
  const tag = (v: unknown): unknown => {
    if (typeof v === 'string') return ['s', v.normalize('NFC')];
    if (typeof v === 'bigint') return ['b', String(v)];
    if (v === undefined) return ['u'];
    if (v instanceof Map) return ['M', [...v].map(([k, x]) => [tag(k), tag(x)])];
    if (v instanceof Set) return ['S', [...v].map(tag)];
    if (Array.isArray(v)) return ['a', v.map(tag)];
    if (v !== null && typeof v === 'object') return ['o', Object.keys(v).sort().map((k) => [k.normalize('NFC'), tag((v as Record<string, unknown>)[k])])];
    return [typeof v, v];
  };
  return JSON.stringify(args.map(tag));
}
