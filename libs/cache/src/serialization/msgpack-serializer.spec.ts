import { Packr } from 'msgpackr';
import { InvalidArgumentError } from '../errors/invalid-argument.error';
import { CorruptPayloadError } from './corrupt-payload.error';
import { MsgpackSerializer } from './msgpack-serializer';
import { PrototypeKeyError } from './prototype-keys';
import { UnsupportedValueError } from './unsupported-value.error';

const serializer = new MsgpackSerializer();
const roundTrip = <T>(value: T): T => serializer.deserializeBytes(Buffer.from(serializer.serializeBytes(value))) as T;
/** Raw MessagePack, as something other than the serializer would write it (no walk, no tags). */
const plain = new Packr({ useRecords: false, moreTypes: true, variableMapSize: true });
const planted = (value: unknown): Buffer => Buffer.from(plain.pack(value));

function serializeError(value: unknown): UnsupportedValueError {
  try {
    serializer.serializeBytes(value);
  } catch (error) {
    expect(error).toBeInstanceOf(UnsupportedValueError);
    return error as UnsupportedValueError;
  }
  throw new Error('serializeBytes did not throw');
}

function readError(bytes: Buffer): Error {
  try {
    serializer.deserializeBytes(bytes);
  } catch (error) {
    return error as Error;
  }
  throw new Error('deserializeBytes did not throw');
}

function nest(depth: number, leaf: unknown): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

describe('MsgpackSerializer', () => {
  it('writes MessagePack bytes, not text', () => {
    const bytes = serializer.serializeBytes({ a: 1 });
    expect(bytes).toBeInstanceOf(Uint8Array);
    // fixmap of one entry, fixstr "a", positive fixint 1
    expect([...bytes]).toEqual([0x81, 0xa1, 0x61, 0x01]);
  });

  it('needs no shared state: the same value gives the same bytes from any instance, and another instance reads them', () => {
    const value = { id: 1, title: 'a', nested: [{ id: 2, title: 'b' }, { id: 3, title: 'c' }] };
    const first = Buffer.from(serializer.serializeBytes(value));
    const again = Buffer.from(serializer.serializeBytes(value));
    const other = new MsgpackSerializer();
    expect(Buffer.from(other.serializeBytes(value)).equals(first)).toBe(true);
    expect(again.equals(first)).toBe(true);
    expect(new MsgpackSerializer().deserializeBytes(first)).toStrictEqual(value);
  });

  describe('round-trips', () => {
    it('primitives, nested objects and arrays; large numbers stay numbers', () => {
      const value = { s: 'text', n: 42, f: 1.25, big: 2 ** 40, neg: -7, t: true, nil: null, list: [1, 'two', [3, { four: 4 }]], deep: { a: { b: { c: [] } } } };
      expect(roundTrip(value)).toStrictEqual(value);
    });

    it('Dates, an invalid Date included', () => {
      const date = roundTrip(new Date('2024-02-29T12:34:56.789Z'));
      expect(date).toBeInstanceOf(Date);
      expect(date.toISOString()).toBe('2024-02-29T12:34:56.789Z');
      expect(Number.isNaN(roundTrip(new Date(NaN)).getTime())).toBe(true);
    });

    it('BigInts of any size, as BigInts', () => {
      expect(roundTrip({ a: 12n, b: -(2n ** 63n), c: 2n ** 64n - 1n, d: -(10n ** 40n), e: 2n ** 200n })).toStrictEqual({ a: 12n, b: -(2n ** 63n), c: 2n ** 64n - 1n, d: -(10n ** 40n), e: 2n ** 200n });
    });

    it('NaN, ±Infinity and -0, at the top and nested', () => {
      expect(roundTrip(NaN)).toBeNaN();
      expect(roundTrip(Infinity)).toBe(Infinity);
      expect(Object.is(roundTrip(-0), -0)).toBe(true);
      const value = roundTrip({ a: [-0, 0, -Infinity], m: new Map([['k', -0]]) });
      expect(Object.is(value.a[0], -0)).toBe(true);
      expect(Object.is(value.a[1], 0)).toBe(true);
      expect(value.a[2]).toBe(-Infinity);
      expect(Object.is(value.m.get('k'), -0)).toBe(true);
    });

    it('Maps (any keys, nested) and Sets, as Maps and Sets', () => {
      const value = new Map<unknown, unknown>([[1, 'one'], ['k', new Date(5)], [{ o: 1 }, new Set([1, new Map([[2, 3n]])])]]);
      const result = roundTrip(value);
      expect(result).toBeInstanceOf(Map);
      expect(result).toStrictEqual(value);
      expect(roundTrip({ tags: new Set(['a', 'b']) })).toStrictEqual({ tags: new Set(['a', 'b']) });
    });

    it('Buffers as Buffers, Uint8Arrays as Uint8Arrays, typed arrays (views and subclasses) as their built-in class, ArrayBuffers', () => {
      const buffer = roundTrip(Buffer.from('héllo'));
      expect(Buffer.isBuffer(buffer)).toBe(true);
      expect(buffer.toString()).toBe('héllo');
      const bytes = roundTrip(new Uint8Array([1, 2, 3]));
      expect(bytes.constructor).toBe(Uint8Array);
      expect([...bytes]).toEqual([1, 2, 3]);
      const backing = new Float64Array([0, 1.5, -2.25, 3]);
      const view = roundTrip(new Float64Array(backing.buffer, 8, 2));
      expect(view).toBeInstanceOf(Float64Array);
      expect([...view]).toEqual([1.5, -2.25]);
      for (const ctor of [Int8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array]) {
        const array = roundTrip(new ctor([1, 2, 3]));
        expect(array.constructor).toBe(ctor);
        expect([...array]).toEqual([1, 2, 3]);
      }
      expect(roundTrip(new BigInt64Array([-5n, 5n]))).toStrictEqual(new BigInt64Array([-5n, 5n]));
      class Pixels extends Uint16Array {}
      const pixels = roundTrip(new Pixels([7, 8]));
      expect(pixels.constructor).toBe(Uint16Array);
      expect([...pixels]).toEqual([7, 8]);
      const arrayBuffer = roundTrip(new Uint8Array([9, 8]).buffer);
      expect(arrayBuffer).toBeInstanceOf(ArrayBuffer);
      expect([...new Uint8Array(arrayBuffer)]).toEqual([9, 8]);
    });

    it('decoded binary data is a copy, not a view of the payload (which may be reused)', () => {
      const payload = Buffer.from(serializer.serializeBytes({ b: Buffer.from('abc'), u: new Uint8Array([1, 2]) }));
      const value = serializer.deserializeBytes(payload) as { b: Buffer; u: Uint8Array };
      payload.fill(0);
      expect(value.b.toString()).toBe('abc');
      expect([...value.u]).toEqual([1, 2]);
    });

    it('RegExps, undefined in objects and arrays', () => {
      const value = roundTrip({ re: /a+b/giu, u: undefined, list: [undefined, 1] });
      expect(value.re).toBeInstanceOf(RegExp);
      expect(value.re.source).toBe('a+b');
      expect(value.re.flags).toBe('giu');
      expect(Object.hasOwn(value, 'u')).toBe(true);
      expect(value.u).toBeUndefined();
      expect(value.list).toEqual([undefined, 1]);
    });

    it('an object that owns a "$t" key, as data', () => {
      const value = { $t: 'Map', v: [1, 2], nested: { $t: 'Number', v: '-0' } };
      expect(roundTrip(value)).toStrictEqual(value);
    });

    it('class instances as plain objects, toJSON forms, Errors as their own properties', () => {
      class User {
        constructor(public id: number, public name: string) {}
        greet(): string {
          return this.name;
        }
      }
      const user = roundTrip(new User(1, 'ada'));
      expect(Object.getPrototypeOf(user)).toBe(Object.prototype);
      expect(user).toEqual({ id: 1, name: 'ada' });
      class Money {
        constructor(private readonly cents: number) {}
        toJSON(): string {
          return (this.cents / 100).toFixed(2);
        }
      }
      expect(roundTrip({ price: new Money(1250) })).toStrictEqual({ price: '12.50' });
      expect(roundTrip({ error: Object.assign(new Error('boom'), { status: 500 }) })).toStrictEqual({ error: { status: 500 } });
    });
  });

  describe('refuses on write, with the path', () => {
    it('functions, symbols, promises, weak collections, DataViews, SharedArrayBuffers', () => {
      expect(serializeError({ a: { f: () => 1 } }).path).toBe('value.a.f');
      expect(serializeError([1, Symbol('s')]).path).toBe('value[1]');
      expect(serializeError({ p: Promise.resolve(1) }).reason).toMatch(/promise/);
      expect(serializeError({ w: new WeakMap() }).reason).toMatch(/WeakMap/);
      expect(serializeError(new Set([new WeakSet()])).path).toBe('value[Set entry 0]');
      expect(serializeError(new Map([['k', () => 1]])).path).toBe('value[Map entry 0].value');
      expect(serializeError({ d: new DataView(new ArrayBuffer(2)) }).reason).toMatch(/DataView/);
      expect(serializeError(new SharedArrayBuffer(4)).reason).toMatch(/SharedArrayBuffer/);
    });

    it('circular references', () => {
      const a: Record<string, unknown> = { b: {} };
      (a.b as Record<string, unknown>).a = a;
      expect(serializeError(a)).toMatchObject({ path: 'value.b.a', reason: 'a circular reference' });
      // The same object twice, not nested in itself, is fine.
      const shared = { x: 1 };
      expect(roundTrip({ one: shared, two: shared })).toStrictEqual({ one: { x: 1 }, two: { x: 1 } });
    });

    it('own __proto__, constructor, prototype and __proto_ properties, wherever they are', () => {
      expect(serializeError(JSON.parse('{"a":{"__proto__":{"x":1}}}')).path).toBe('value.a.__proto__');
      expect(serializeError({ constructor: 'x' }).path).toBe('value.constructor');
      expect(serializeError([{ prototype: {} }]).path).toBe('value[0].prototype');
      expect(serializeError({ __proto_: 1 }).path).toBe('value.__proto_');
      expect(serializeError(new Map([['k', { constructor: 1 }]])).path).toBe('value[Map entry 0].value.constructor');
    });

    it('nesting deeper than 256 levels; 256 is fine', () => {
      expect(roundTrip(nest(256, 1))).toStrictEqual(nest(256, 1));
      expect(serializeError(nest(257, 1)).reason).toMatch(/deeper than 256/);
      expect(serializeError(nest(256, -0)).reason).toMatch(/deeper than 256/);
    });

    it('a top-level undefined from toJSON', () => {
      expect(serializeError({ toJSON: () => undefined }).reason).toMatch(/undefined/);
    });
  });

  describe('refuses on read (the entry is a miss and dropped)', () => {
    it('a planted "__proto__" key: refused, and no prototype is set or polluted', () => {
      const bytes = planted(JSON.parse('{"user":{"__proto__":{"isAdmin":true}}}'));
      const error = readError(bytes);
      expect(error).toBeInstanceOf(PrototypeKeyError);
      expect((error as PrototypeKeyError).key).toBe('__proto__');
      expect(({} as { isAdmin?: boolean }).isAdmin).toBeUndefined();
      expect(Object.prototype).not.toHaveProperty('isAdmin');
    });

    it('planted "constructor", "prototype" and "__proto_" keys, nested in arrays and Map tags too', () => {
      expect(readError(planted([{ constructor: { prototype: { x: 1 } } }]))).toBeInstanceOf(PrototypeKeyError);
      expect(readError(planted({ a: { prototype: 1 } }))).toBeInstanceOf(PrototypeKeyError);
      expect(readError(planted({ __proto_: 1 }))).toBeInstanceOf(PrototypeKeyError);
      expect(readError(planted({ $t: 'Map', v: ['k', { constructor: 1 }] }))).toBeInstanceOf(PrototypeKeyError);
    });

    it('msgpackr\'s record structures (which it never writes, but decodes) go through the same checks', () => {
      const records = new Packr({ useRecords: true });
      expect(serializer.deserializeBytes(Buffer.from(records.pack([{ ok: 1 }, { ok: 2 }])))).toStrictEqual([{ ok: 1 }, { ok: 2 }]);
      expect(readError(Buffer.from(records.pack(JSON.parse('{"__proto__":{"isAdmin":true}}'))))).toBeInstanceOf(PrototypeKeyError);
      expect(readError(Buffer.from(records.pack({ constructor: 1 })))).toBeInstanceOf(PrototypeKeyError);
      expect(Object.prototype).not.toHaveProperty('isAdmin');
    });

    it('nesting deeper than 256 levels, and far deeper (no stack overflow escapes; the decoder still works after)', () => {
      expect(serializer.deserializeBytes(planted(nest(256, 1)))).toStrictEqual(nest(256, 1));
      expect(readError(planted(nest(257, 1)))).toBeInstanceOf(CorruptPayloadError);
      const bomb = Buffer.alloc(200_000, 0x91);
      bomb[bomb.length - 1] = 0x01;
      expect(readError(bomb)).toBeInstanceOf(CorruptPayloadError);
      expect(roundTrip({ ok: true })).toStrictEqual({ ok: true });
    });

    it('trailing bytes, truncated bytes, empty input, garbage', () => {
      const bytes = Buffer.from(serializer.serializeBytes({ a: 'hello', b: [1, 2, 3] }));
      const trailing = readError(Buffer.concat([bytes, Buffer.from([0x01])]));
      expect(trailing).toBeInstanceOf(CorruptPayloadError);
      // The message says what went wrong without quoting the data.
      expect(trailing.message).toMatch(/trailing bytes/);
      expect(trailing.message).not.toMatch(/hello/);
      expect(readError(bytes.subarray(0, bytes.length - 2)).message).toMatch(/truncated/);
      expect(readError(Buffer.alloc(0))).toBeInstanceOf(CorruptPayloadError);
      expect(readError(Buffer.from([0xc1]))).toBeInstanceOf(CorruptPayloadError);
      expect(readError(Buffer.from('{"a":1}'))).toBeInstanceOf(CorruptPayloadError);
    });

    it('types it never writes (Error, DataView, structured-clone references), a top-level undefined, bad tags', () => {
      expect(readError(planted(new Error('x')))).toBeInstanceOf(CorruptPayloadError);
      expect(readError(planted({ v: new DataView(new ArrayBuffer(2)) }))).toBeInstanceOf(CorruptPayloadError);
      expect(readError(Buffer.from([0xd6, 0x69, 0, 0, 0, 1, 0x90]))).toBeInstanceOf(CorruptPayloadError);
      expect(readError(Buffer.from([0xd4, 0x00, 0x00]))).toBeInstanceOf(CorruptPayloadError);
      expect(readError(planted({ $t: 'Function', v: 'x' }))).toBeInstanceOf(CorruptPayloadError);
      expect(readError(planted({ $t: 'Map', v: [1] }))).toBeInstanceOf(CorruptPayloadError);
      expect(readError(planted({ $t: 'Number', v: 'NaN' }))).toBeInstanceOf(CorruptPayloadError);
      expect(readError(planted({ $t: 'TypedArray', c: 'Float64Array', v: Buffer.alloc(3) }))).toBeInstanceOf(CorruptPayloadError);
      expect(readError(planted({ $t: 'TypedArray', c: 'constructor', v: Buffer.alloc(8) }))).toBeInstanceOf(CorruptPayloadError);
    });
  });

  it('without msgpackr installed, construction is an InvalidArgumentError naming the package', () => {
    jest.isolateModules(() => {
      jest.doMock('msgpackr', () => {
        throw new Error("Cannot find module 'msgpackr'");
      });
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const isolated = require('./msgpack-serializer') as typeof import('./msgpack-serializer');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const errors = require('../errors/invalid-argument.error') as typeof import('../errors/invalid-argument.error');
      expect(() => new isolated.MsgpackSerializer()).toThrow(errors.InvalidArgumentError);
      expect(() => new isolated.MsgpackSerializer()).toThrow(/optional package msgpackr/);
    });
    expect(new MsgpackSerializer()).toBeInstanceOf(MsgpackSerializer);
    expect(InvalidArgumentError).toBeDefined();
  });
});
