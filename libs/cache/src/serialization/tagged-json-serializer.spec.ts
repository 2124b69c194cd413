import { TaggedJsonSerializer } from './tagged-json-serializer';
import { UnsupportedValueError } from './unsupported-value.error';
import { PrototypeKeyError } from './prototype-keys';

const serializer = new TaggedJsonSerializer();
const roundTrip = <T>(value: T): T => serializer.deserialize(serializer.serialize(value)) as T;

function serializeError(value: unknown): UnsupportedValueError {
  try {
    serializer.serialize(value);
  } catch (error) {
    expect(error).toBeInstanceOf(UnsupportedValueError);
    return error as UnsupportedValueError;
  }
  throw new Error('serialize did not throw');
}

function nest(depth: number, leaf: unknown): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

describe('TaggedJsonSerializer', () => {
  it('produces a string', () => {
    expect(typeof serializer.serialize({ a: 1 })).toBe('string');
  });

  describe('round-trips', () => {
    it('JSON primitives, nested objects and arrays', () => {
      const value = { s: 'text', n: 42, f: 1.25, t: true, nil: null, list: [1, 'two', [3, { four: 4 }]], deep: { a: { b: { c: [] } } } };
      expect(roundTrip(value)).toStrictEqual(value);
    });

    it('a Date, as a Date', () => {
      const result = roundTrip(new Date('2024-02-29T12:34:56.789Z'));
      expect(result).toBeInstanceOf(Date);
      expect(result.toISOString()).toBe('2024-02-29T12:34:56.789Z');
    });

    it('an invalid Date, as an invalid Date', () => {
      const result = roundTrip(new Date(NaN));
      expect(result).toBeInstanceOf(Date);
      expect(Number.isNaN(result.getTime())).toBe(true);
    });

    it.each([0n, 42n, -42n, 2n ** 64n + 1n, -(2n ** 100n)])('the BigInt %p', (value) => {
      const result = roundTrip(value);
      expect(typeof result).toBe('bigint');
      expect(result).toBe(value);
    });

    it('a Map with object keys and a nested Map', () => {
      const value = new Map<unknown, unknown>([
        ['a', 1],
        [{ id: 7 }, 'object key'],
        [3, new Map([['inner', new Date(0)]])],
      ]);
      const result = roundTrip(value);
      expect(result).toBeInstanceOf(Map);
      expect(result).toStrictEqual(value);
      const entries = [...result.entries()];
      expect(entries[1][0]).toStrictEqual({ id: 7 });
      expect(entries[2][1]).toBeInstanceOf(Map);
      expect((entries[2][1] as Map<string, Date>).get('inner')).toBeInstanceOf(Date);
    });

    it('a Set, keeping insertion order', () => {
      const value = new Set<unknown>(['b', 'a', 3, { x: 1 }]);
      const result = roundTrip(value);
      expect(result).toBeInstanceOf(Set);
      expect([...result]).toStrictEqual(['b', 'a', 3, { x: 1 }]);
    });

    it('a Buffer, as a Buffer with the same bytes', () => {
      const value = Buffer.from([0, 1, 2, 250, 255]);
      const result = roundTrip(value);
      expect(Buffer.isBuffer(result)).toBe(true);
      expect(result.equals(value)).toBe(true);
    });

    it('a Uint8Array, as a Buffer with the same bytes', () => {
      const result = roundTrip(new Uint8Array([9, 8, 7]));
      expect(Buffer.isBuffer(result)).toBe(true);
      expect([...result]).toEqual([9, 8, 7]);
    });

    it('only the viewed bytes of a sub-array', () => {
      const whole = new Int32Array([1, 2, 3, 4]);
      const result = roundTrip(whole.subarray(1, 3));
      expect(result).toBeInstanceOf(Int32Array);
      expect([...result]).toEqual([2, 3]);
    });

    it.each([
      ['Float64Array', new Float64Array([1.5, -0.25, NaN, Infinity])],
      ['Int32Array', new Int32Array([-2_147_483_648, 0, 2_147_483_647])],
      ['BigInt64Array', new BigInt64Array([-(2n ** 63n), 0n, 2n ** 63n - 1n])],
    ])('a %s, with its type', (name, value) => {
      const result = roundTrip(value);
      expect(result.constructor.name).toBe(name);
      expect(result).toStrictEqual(value);
    });

    it('a RegExp with its flags', () => {
      const result = roundTrip(/^a+\/b$/giu);
      expect(result).toBeInstanceOf(RegExp);
      expect(result.source).toBe('^a+\\/b$');
      expect(result.flags).toBe('giu');
    });

    it('undefined inside objects and arrays', () => {
      const result = roundTrip({ a: undefined, list: [1, undefined, 3] });
      expect(Object.prototype.hasOwnProperty.call(result, 'a')).toBe(true);
      expect(result.a).toBeUndefined();
      expect(result.list).toHaveLength(3);
      expect(1 in result.list).toBe(true);
      expect(result.list[1]).toBeUndefined();
    });

    it.each([
      ['NaN', NaN],
      ['Infinity', Infinity],
      ['-Infinity', -Infinity],
      ['-0', -0],
    ])('the number %s', (_label, value) => {
      expect(Object.is(roundTrip(value), value)).toBe(true);
      expect(Object.is(roundTrip({ n: value }).n, value)).toBe(true);
    });

    it('a plain object that owns a `$t` key, as a plain object', () => {
      const value = { $t: 'Date', v: 5, nested: { $t: 'BigInt', v: '1' } };
      const result = roundTrip(value);
      expect(result).toStrictEqual(value);
      expect(result).not.toBeInstanceOf(Date);
      expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    });

    it('shared, non-circular references (as equal copies)', () => {
      const shared = { id: 1, tags: ['x'] };
      const result = roundTrip({ a: shared, b: shared, list: [shared, shared] });
      expect(result.a).toStrictEqual(shared);
      expect(result.b).toStrictEqual(shared);
      expect(result.list).toStrictEqual([shared, shared]);
    });

    it('a value nested exactly 256 levels deep', () => {
      expect(roundTrip(nest(256, 'leaf'))).toStrictEqual(nest(256, 'leaf'));
    });

    // BUG: encode() checks the depth only for objects, but BigInt, undefined, NaN, ±Infinity and -0 are
    // encoded AS objects ({"$t":...}); decode() checks the depth for every object. So such a value at
    // the 257th level serializes fine and then never deserializes (a permanent miss in Redis).
    // Either outcome is consistent: serialize rejects the value, or deserialize reads it back.
    it.each([
      ['a BigInt', 1n],
      ['undefined', undefined],
      ['NaN', NaN],
    ])('%s nested 256 levels deep: what serialize accepts, deserialize reads back', (_label, leaf) => {
      const value = nest(256, leaf);
      let payload: string;
      try {
        payload = serializer.serialize(value);
      } catch (error) {
        expect(error).toBeInstanceOf(UnsupportedValueError);
        return;
      }
      // Today: serialize accepts, and this throws CorruptPayloadError "nested deeper than 256 levels".
      expect(serializer.deserialize(payload)).toStrictEqual(value);
    });
  });

  describe('binary values', () => {
    it('round-trips an ArrayBuffer with its bytes', () => {
      const buffer = new Uint8Array([1, 2, 250]).buffer;
      const back = serializer.deserialize(serializer.serialize({ buffer })) as { buffer: ArrayBuffer };
      expect(back.buffer).toBeInstanceOf(ArrayBuffer);
      expect([...new Uint8Array(back.buffer)]).toEqual([1, 2, 250]);
    });

    it('stores a typed array subclass as its built-in class', () => {
      class Vector extends Float64Array {}
      const back = serializer.deserialize(serializer.serialize(new Vector([1.5, -2]))) as Float64Array;
      expect(back).toBeInstanceOf(Float64Array);
      expect([...back]).toEqual([1.5, -2]);
    });

    it('rejects a DataView and a SharedArrayBuffer', () => {
      expect(() => serializer.serialize({ v: new DataView(new ArrayBuffer(4)) })).toThrow('value.v is a DataView, which is not supported');
      expect(() => serializer.serialize([new SharedArrayBuffer(4)])).toThrow('value[0] is a SharedArrayBuffer');
    });
  });

  describe('toJSON', () => {
    it('stores the toJSON() form, and refuses a top-level toJSON() that gives undefined', () => {
      class Money { constructor(readonly cents: number) {} toJSON(): string { return `${this.cents}c`; } }
      expect(serializer.deserialize(serializer.serialize({ price: new Money(250) }))).toEqual({ price: '250c' });
      class NoJson { toJSON(): undefined { return undefined; } }
      expect(() => serializer.serialize(new NoJson())).toThrow(UnsupportedValueError);
    });
  });

  describe('prototype safety', () => {
    const polluted = (): unknown => ({} as Record<string, unknown>).polluted;
    const protoKeys = (): string[] => Object.getOwnPropertyNames(Object.prototype).sort();
    let keysBefore: string[];

    beforeEach(() => {
      keysBefore = protoKeys();
    });

    afterEach(() => {
      expect(polluted()).toBeUndefined();
      expect(protoKeys()).toEqual(keysBefore);
    });

    const refused = (payload: string): PrototypeKeyError => {
      try {
        serializer.deserialize(payload);
      } catch (error) {
        return error as PrototypeKeyError;
      }
      throw new Error('expected the payload to be refused');
    };

    it.each([
      ['a top-level `__proto__` key', '{"__proto__":{"polluted":1}}', '__proto__'],
      ['a nested `__proto__` key', '{"a":{"__proto__":{"polluted":1}}}', '__proto__'],
      ['a `__proto__` key holding a tagged value', '{"__proto__":{"$t":"Date","v":0}}', '__proto__'],
      ['`constructor.prototype`', '{"constructor":{"prototype":{"polluted":1}}}', 'constructor'],
      ['a `prototype` key', '{"prototype":{"polluted":1}}', 'prototype'],
      ['a `__proto__` key inside an array', '[1,{"ok":true},{"__proto__":{"polluted":1}}]', '__proto__'],
      ['a `__proto__` key inside an escaped object (the serializer\'s own `$t: Object` form)', '{"$t":"Object","v":{"$t":1,"__proto__":{"polluted":1}}}', '__proto__'],
      ['a `constructor` key in a Map value', '{"$t":"Map","v":[["k",{"constructor":{"prototype":{"polluted":1}}}]]}', 'constructor'],
      ['a `__proto__` key in a Set member', '{"$t":"Set","v":[{"__proto__":{"polluted":1}}]}', '__proto__'],
      ['a `__proto__` key in a Map key', '{"$t":"Map","v":[[{"__proto__":{}},1]]}', '__proto__'],
    ])('refuses a payload with %s (PrototypeKeyError: the entry is a miss)', (_, payload, key) => {
      const error = refused(payload);
      expect(error).toBeInstanceOf(PrototypeKeyError);
      expect(error.name).toBe('PrototypeKeyError');
      expect(error.key).toBe(key);
    });

    it('still reads `__proto__`, `constructor` and `prototype` as Map keys, strings and nested names', () => {
      const result = serializer.deserialize('{"$t":"Map","v":[["__proto__",1],["constructor","prototype"]]}') as Map<string, unknown>;
      expect([...result]).toEqual([['__proto__', 1], ['constructor', 'prototype']]);
      expect(serializer.deserialize('{"protoType":1,"constructors":["__proto__"]}')).toEqual({ protoType: 1, constructors: ['__proto__'] });
    });

    it.each([
      ['an own `__proto__` key (as JSON.parse makes)', () => JSON.parse('{"__proto__": {"x":1}, "y": 2}'), 'value.__proto__'],
      ['a nested `constructor` key', () => ({ a: [{ constructor: { prototype: { x: 1 } } }] }), 'value.a[0].constructor'],
      ['a `prototype` key on a class instance', () => Object.assign(new (class Doc {})(), { prototype: 1 }), 'value.prototype'],
    ])('refuses to serialize a value with %s, naming its path', (_, make, path) => {
      const error = serializeError(make());
      expect(error).toBeInstanceOf(UnsupportedValueError);
      expect(error.path).toBe(path);
      expect(error.reason).toMatch(/prototype/);
    });
  });

  describe('serialize rejects', () => {
    it('a nested function, naming its path', () => {
      const error = serializeError({ user: { name: 'a', cb: () => 1 } });
      expect(error.path).toBe('value.user.cb');
      expect(error.message).toContain('function');
    });

    it('a symbol in an array, naming its index', () => {
      expect(serializeError({ items: [1, Symbol('s')] }).path).toBe('value.items[1]');
    });

    it('a top-level function', () => {
      expect(serializeError(() => 1).path).toBe('value');
    });

    it('a circular reference, naming the path where the object repeats', () => {
      const root: Record<string, unknown> = { child: { name: 'c' } };
      (root.child as Record<string, unknown>).back = root;
      const error = serializeError(root);
      expect(error.path).toBe('value.child.back');
      expect(error.reason).toMatch(/circular/);
    });

    it('a circular reference through an array', () => {
      const list: unknown[] = [1];
      list.push(list);
      expect(serializeError(list).path).toBe('value[1]');
    });

    it('a Promise', () => {
      expect(serializeError({ p: Promise.resolve(1) }).path).toBe('value.p');
    });

    it('a WeakMap', () => {
      expect(serializeError({ w: new WeakMap() }).path).toBe('value.w');
    });

    it('a value nested deeper than 256 levels', () => {
      expect(serializeError(nest(257, 'leaf')).reason).toMatch(/256/);
    });
  });

  describe('deserialize rejects a corrupt payload', () => {
    it.each([
      ['invalid JSON', '{"a":'],
      ['an unknown tag', '{"$t":"Nope"}'],
      ['a non-integer BigInt', '{"$t":"BigInt","v":"1.5"}'],
      ['a Map entry that is not a pair', '{"$t":"Map","v":[[1]]}'],
      ['a Map whose entries are not an array', '{"$t":"Map","v":{}}'],
      ['a typed array whose length is not a multiple of its element size', '{"$t":"TypedArray","c":"Float64Array","v":"AAA="}'],
      ['a typed array of an unknown class', '{"$t":"TypedArray","c":"Function","v":""}'],
      ['a typed array naming an Object.prototype member', '{"$t":"TypedArray","c":"constructor","v":""}'],
      ['a Date whose time is not a number', '{"$t":"Date","v":"yesterday"}'],
      ['an unknown Number', '{"$t":"Number","v":"42"}'],
      ['an escaped Object without an object', '{"$t":"Object","v":[1]}'],
      ['a corrupt tag nested in a plain object', '{"a":{"b":{"$t":"Nope"}}}'],
      ['nesting deeper than 256 levels', `${'['.repeat(300)}${']'.repeat(300)}`],
    ])('%s', (_label, payload) => {
      expect(() => serializer.deserialize(payload)).toThrow();
    });

    it('a typed array whose length fits its element size is accepted (control for the length check)', () => {
      const result = serializer.deserialize('{"$t":"TypedArray","c":"Float64Array","v":"AAAAAAAAAAA="}');
      expect(result).toStrictEqual(new Float64Array([0]));
    });
  });
});
