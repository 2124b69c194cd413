import { estimateValueSize } from './estimate-value-size';
import { TaggedJsonSerializer } from './tagged-json-serializer';
import { UnsupportedValueError } from './unsupported-value.error';

function estimateError(value: unknown): UnsupportedValueError {
  try {
    estimateValueSize(value);
  } catch (error) {
    expect(error).toBeInstanceOf(UnsupportedValueError);
    return error as UnsupportedValueError;
  }
  throw new Error('estimateValueSize did not throw');
}

function nest(depth: number, leaf: unknown): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

const objects = (n: number): object[] => Array.from({ length: n }, (_, i) => ({ id: i, name: `item-${i}` }));

describe('estimateValueSize', () => {
  describe('returns a positive number', () => {
    it.each([
      ['a string', 'abc'],
      ['the empty string', ''],
      ['a number', 0],
      ['a boolean', false],
      ['null', null],
      ['a bigint', 123n],
      ['an empty object', {}],
      ['an empty array', []],
      ['a Date', new Date(0)],
      ['a RegExp', /a+/g],
      ['an empty Map', new Map()],
      ['an empty Set', new Set()],
      ['a Buffer', Buffer.alloc(0)],
    ])('for %s', (_label, value) => {
      const size = estimateValueSize(value);
      expect(Number.isFinite(size)).toBe(true);
      expect(size).toBeGreaterThan(0);
    });
  });

  describe('grows with the value', () => {
    it('a 10,000-character string is bigger than a 10-character one', () => {
      expect(estimateValueSize('x'.repeat(10_000))).toBeGreaterThan(estimateValueSize('x'.repeat(10)));
    });

    it('a 10,000-character string counts at least one byte per character', () => {
      expect(estimateValueSize('x'.repeat(10_000))).toBeGreaterThanOrEqual(10_000);
    });

    it('an array of 1000 objects is bigger than an array of 10', () => {
      expect(estimateValueSize(objects(1000))).toBeGreaterThan(estimateValueSize(objects(10)));
    });

    it('an object with more keys is bigger', () => {
      const small = { a: 1 };
      const large = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, i]));
      expect(estimateValueSize(large)).toBeGreaterThan(estimateValueSize(small));
    });

    it('a longer string inside an object makes the object bigger', () => {
      expect(estimateValueSize({ a: 'x'.repeat(5000) })).toBeGreaterThan(estimateValueSize({ a: 'x' }));
    });

    it('a deeper structure with the same leaves is bigger', () => {
      expect(estimateValueSize({ a: { b: { c: 1 } } })).toBeGreaterThan(estimateValueSize({ c: 1 }));
    });

    it('a larger bigint is bigger', () => {
      expect(estimateValueSize(2n ** 512n)).toBeGreaterThan(estimateValueSize(1n));
    });

    it('a Buffer of 1 MiB is estimated at 1 MiB or more', () => {
      expect(estimateValueSize(Buffer.alloc(1024 * 1024))).toBeGreaterThanOrEqual(1024 * 1024);
    });

    it('a typed array counts its bytes, not its element count', () => {
      expect(estimateValueSize(new Float64Array(1000))).toBeGreaterThanOrEqual(8000);
    });

    // QUESTIONABLE: an ArrayBuffer is not a view, so it falls through to the plain-object branch
    // (no own enumerable keys) and is estimated at 24 bytes whatever its length; maxBytes and
    // maxValueBytes of memory namespaces do not see its memory.
    it('an ArrayBuffer of 1 MiB is estimated at 1 MiB or more', () => {
      expect(estimateValueSize(new ArrayBuffer(1024 * 1024))).toBeGreaterThanOrEqual(1024 * 1024);
    });

    it('counts the entries of a Map, keys and values', () => {
      const empty = estimateValueSize(new Map());
      const withShortValue = estimateValueSize(new Map([['k', 'v']]));
      const withLongValue = estimateValueSize(new Map([['k', 'v'.repeat(1000)]]));
      const withLongKey = estimateValueSize(new Map([['k'.repeat(1000), 'v']]));
      expect(withShortValue).toBeGreaterThan(empty);
      // 999 more characters, one byte each (less the string's rounding to 8 bytes)
      expect(withLongValue).toBeGreaterThanOrEqual(withShortValue + 992);
      expect(withLongKey).toBeGreaterThanOrEqual(withShortValue + 992);
    });

    it('counts the entries of a Set', () => {
      const one = estimateValueSize(new Set(['a']));
      expect(one).toBeGreaterThan(estimateValueSize(new Set()));
      expect(estimateValueSize(new Set(['a', 'b', 'c']))).toBeGreaterThan(one);
      expect(estimateValueSize(new Set(['a'.repeat(1000)]))).toBeGreaterThanOrEqual(one + 992);
    });

    it('counts a string as V8 holds it: one byte per character, two when one is above U+00FF', () => {
      expect(estimateValueSize('x'.repeat(1000))).toBe(1016);
      expect(estimateValueSize('é'.repeat(1000))).toBe(1016);
      expect(estimateValueSize('я'.repeat(1000))).toBe(2016);
      expect(estimateValueSize('x'.repeat(999) + 'я')).toBe(2016);
    });

    it('counts property slots, not names, in an ordinary object; names too in a dictionary-sized one', () => {
      expect(estimateValueSize({ a: 1 })).toBe(estimateValueSize({ ['a'.repeat(100)]: 1 }));
      const many = (name: (i: number) => string) => Object.fromEntries(Array.from({ length: 200 }, (_, i) => [name(i), i]));
      expect(estimateValueSize(many((i) => `${'k'.repeat(100)}${i}`))).toBeGreaterThan(estimateValueSize(many((i) => `k${i}`)) + 200 * 90);
    });

    it('boxes numbers that are not 32-bit integers', () => {
      expect(estimateValueSize({ n: 1.5 })).toBeGreaterThan(estimateValueSize({ n: 1 }));
      expect(estimateValueSize({ n: 2 ** 40 })).toBeGreaterThan(estimateValueSize({ n: 2 ** 30 }));
    });
  });

  describe('accepts', () => {
    it('undefined nested inside objects and arrays', () => {
      expect(estimateValueSize({ a: undefined, list: [undefined] })).toBeGreaterThan(0);
    });

    it('the same object referenced twice without a cycle', () => {
      const shared = { a: 1 };
      expect(estimateValueSize({ x: shared, y: [shared, shared] })).toBeGreaterThan(0);
    });

    it('a value nested exactly 256 levels deep', () => {
      expect(estimateValueSize(nest(256, 1))).toBeGreaterThan(0);
    });
  });

  describe('rejects with the path of the offending part', () => {
    it('a nested function', () => {
      const error = estimateError({ user: { cb: () => 1 } });
      expect(error.path).toBe('value.user.cb');
      expect(error.reason).toMatch(/function/);
    });

    it('a top-level function', () => {
      expect(estimateError(() => 1).path).toBe('value');
    });

    it('a symbol in an array', () => {
      const error = estimateError({ items: ['a', Symbol('s')] });
      expect(error.path).toBe('value.items[1]');
      expect(error.reason).toMatch(/symbol/);
    });

    it('a top-level symbol', () => {
      expect(estimateError(Symbol('s')).path).toBe('value');
    });

    it('top-level undefined', () => {
      const error = estimateError(undefined);
      expect(error.path).toBe('value');
      expect(error.reason).toMatch(/undefined/);
    });

    it('a circular reference', () => {
      const root: Record<string, unknown> = { child: {} };
      (root.child as Record<string, unknown>).back = root;
      const error = estimateError(root);
      expect(error.path).toBe('value.child.back');
      expect(error.reason).toMatch(/circular/);
    });

    it('a function inside a Map value', () => {
      expect(estimateError(new Map([['k', () => 1]])).path).toBe('value[Map entry 0].value');
    });

    it('a Promise', () => {
      const error = estimateError({ p: Promise.resolve(1) });
      expect(error.path).toBe('value.p');
      expect(error.reason).toMatch(/promise/);
    });

    it('a WeakMap', () => {
      expect(estimateError({ w: new WeakMap() }).path).toBe('value.w');
    });

    it('a value nested deeper than 256 levels', () => {
      expect(estimateError(nest(257, 1)).reason).toMatch(/256/);
    });
  });

  // The estimator's contract: switching a namespace from memory to Redis never changes what `set`
  // accepts, so it must reject exactly what the default serializer rejects.
  describe('accepts and rejects the same values as TaggedJsonSerializer', () => {
    const serializer = new TaggedJsonSerializer();
    const accepts = (walk: (value: unknown) => unknown, value: unknown): boolean => {
      try {
        walk(value);
        return true;
      } catch (error) {
        expect(error).toBeInstanceOf(UnsupportedValueError);
        return false;
      }
    };
    const agree = (value: unknown): void => {
      expect(accepts(estimateValueSize, value)).toBe(accepts((v) => serializer.serialize(v), value));
    };
    const circular: Record<string, unknown> = {};
    circular.self = circular;

    it.each([
      ['a nested object', { a: [1, 'b', null] }],
      ['a Buffer', Buffer.from('abc')],
      ['a Float64Array', new Float64Array(2)],
      ['a Map and a Set', { m: new Map([[1, 2]]), s: new Set([3]) }],
      ['a nested function', { f: () => 1 }],
      ['a Promise', Promise.resolve(1)],
      ['a WeakSet', new WeakSet()],
      ['a cycle', circular],
      ['257 levels of nesting', nest(257, 1)],
    ])('%s', (_label, value) => agree(value));

    // BUG: ArrayBuffer.isView() is true for these, so the estimator sizes them, while the serializer
    // only knows Uint8Array and the ten built-in typed array classes by constructor name and throws
    // "value is a DataView, which is not supported" (resp. "a Float64Vector").
    it.each([
      ['a DataView', new DataView(new ArrayBuffer(8))],
      ['a subclass of Float64Array', new (class Float64Vector extends Float64Array {})(2)],
    ])('%s', (_label, value) => agree(value));
  });

  describe('agrees with the serializer on toJSON', () => {
    it('sizes the toJSON() form, and rejects what the serializer rejects', () => {
      class Money {
        constructor(readonly cents: number) {}
        format = (): string => `${this.cents / 100} EUR`;
        toJSON(): string { return `${this.cents}c`; }
      }
      expect(estimateValueSize(new Money(12_345))).toBeGreaterThan(0);
      class SelfJson { toJSON(): unknown { return this; } }
      expect(() => estimateValueSize(new SelfJson())).toThrow('a circular reference');
      class NoJson { toJSON(): undefined { return undefined; } }
      expect(() => estimateValueSize(new NoJson())).toThrow("value is an object whose toJSON() returns undefined");
    });
  });
});
