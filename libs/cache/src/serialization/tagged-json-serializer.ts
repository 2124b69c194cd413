import { binaryKind, TYPED_ARRAYS, TypedArrayName } from './binary-types';
import { CorruptPayloadError } from './corrupt-payload.error';
import { isPrototypeKey, PrototypeKeyError } from './prototype-keys';
import { Serializer } from './serializer.interface';
import { UnsupportedValueError } from './unsupported-value.error';
import { checkDepth, childPath, MAX_VALUE_DEPTH } from './value-path';

const TAG = '$t';
const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/**
 * JSON with tagged objects for the types JSON loses: `{"$t":"Date","v":1700000000000}`. Round-trips
 * Date, BigInt, Map, Set, Buffer (and any Uint8Array, which comes back as a Buffer), typed arrays,
 * ArrayBuffer, RegExp, undefined, NaN, ±Infinity and -0.
 * A plain object that itself owns a `$t` key is escaped as `{"$t":"Object","v":{...}}`, so stored data
 * can never be mistaken for a tag.
 *
 * Prototype safety: no value it reads back owns a `__proto__`, `constructor` or `prototype` property
 * (see `prototype-keys.ts`). A value with one is refused on write (`UnsupportedValueError`, so the
 * caller gets an `InvalidValueError`), and a payload with one, which only something else can have
 * written, is refused on read (`PrototypeKeyError`: a miss, and the entry is dropped). Decoding never
 * assigns through `__proto__` or touches a prototype.
 * Class instances are stored as their own enumerable properties and come back as plain objects.
 */
export class TaggedJsonSerializer implements Serializer {
  readonly name = 'tagged-json';

  serialize(value: unknown): string {
    const encoded = encode(value, 'value', [], 0);
    // A top-level undefined (e.g. from toJSON()) would read back as a miss forever.
    if (isUndefinedTag(encoded)) throw new UnsupportedValueError('value', 'undefined (store null to cache an absence)');
    return JSON.stringify(encoded);
  }

  deserialize(payload: string): unknown {
    return decode(JSON.parse(payload), 0);
  }
}

const isUndefinedTag = (encoded: unknown): boolean =>
  encoded !== null && typeof encoded === 'object' && (encoded as Record<string, unknown>)[TAG] === 'undefined';

function encode(value: unknown, path: string, ancestors: object[], depth: number): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (Number.isFinite(value) && !Object.is(value, -0)) return value;
      checkDepth(path, depth);
      return { [TAG]: 'Number', v: Object.is(value, -0) ? '-0' : String(value) };
    case 'bigint':
      checkDepth(path, depth);
      return { [TAG]: 'BigInt', v: value.toString() };
    case 'undefined':
      checkDepth(path, depth);
      return { [TAG]: 'undefined' };
    case 'function':
      throw new UnsupportedValueError(path, 'a function');
    case 'symbol':
      throw new UnsupportedValueError(path, 'a symbol');
  }
  if (value === null) return null;
  return encodeObject(value as object, path, ancestors, depth);
}


function encodeObject(value: object, path: string, ancestors: object[], depth: number): unknown {
  checkDepth(path, depth);
  if (ancestors.includes(value)) throw new UnsupportedValueError(path, 'a circular reference');
  if (value instanceof Date) return { [TAG]: 'Date', v: Number.isNaN(value.getTime()) ? null : value.getTime() };
  if (ArrayBuffer.isView(value)) {
    const kind = binaryKind(value);
    if (kind === undefined) throw new UnsupportedValueError(path, `a ${value.constructor.name}, which is not supported`);
    const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
    return kind === 'Buffer' ? { [TAG]: 'Buffer', v: bytes } : { [TAG]: 'TypedArray', c: kind, v: bytes };
  }
  if (value instanceof ArrayBuffer) return { [TAG]: 'ArrayBuffer', v: Buffer.from(value).toString('base64') };
  if (typeof SharedArrayBuffer !== 'undefined' && value instanceof SharedArrayBuffer) {
    throw new UnsupportedValueError(path, 'a SharedArrayBuffer, which cannot be copied');
  }
  if (value instanceof RegExp) return { [TAG]: 'RegExp', v: value.source, f: value.flags };
  if (value instanceof Promise) throw new UnsupportedValueError(path, 'a promise (await it first)');
  if (value instanceof WeakMap || value instanceof WeakSet || value instanceof WeakRef) {
    throw new UnsupportedValueError(path, `a ${value.constructor.name}, which cannot be serialized`);
  }
  ancestors.push(value);
  let out: unknown;
  if (Array.isArray(value)) {
    const items = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) items[i] = encode(value[i], childPath(path, i), ancestors, depth + 1);
    out = items;
  } else if (value instanceof Map) {
    const pairs: unknown[] = [];
    let i = 0;
    for (const [k, v] of value) {
      const entryPath = `${path}[Map entry ${i++}]`;
      pairs.push([encode(k, `${entryPath}.key`, ancestors, depth + 1), encode(v, `${entryPath}.value`, ancestors, depth + 1)]);
    }
    out = { [TAG]: 'Map', v: pairs };
  } else if (value instanceof Set) {
    const items: unknown[] = [];
    let i = 0;
    for (const v of value) items.push(encode(v, `${path}[Set entry ${i++}]`, ancestors, depth + 1));
    out = { [TAG]: 'Set', v: items };
  } else if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    // Decimal, Luxon, Mongo ObjectId…: honour their own JSON form, as JSON.stringify would.
    out = encode((value as { toJSON(): unknown }).toJSON(), path, ancestors, depth + 1);
  } else {
    // A null-prototype target: a `__proto__` key is stored as data, never as a prototype.
    const props: Record<string, unknown> = Object.create(null);
    for (const key of Object.keys(value)) {
      if (isPrototypeKey(key)) throw new UnsupportedValueError(childPath(path, key), 'a property that could pollute a prototype when read back (rename it)');
      props[key] = encode((value as Record<string, unknown>)[key], childPath(path, key), ancestors, depth + 1);
    }
    out = hasOwn(value, TAG) ? { [TAG]: 'Object', v: props } : props;
  }
  ancestors.pop();
  return out;
}

function decode(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_VALUE_DEPTH) throw new CorruptPayloadError(`nested deeper than ${MAX_VALUE_DEPTH} levels`);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = decode(value[i], depth + 1);
    return value;
  }
  const record = value as Record<string, unknown>;
  if (!hasOwn(record, TAG)) return decodeProps(record, depth);
  const v = record.v;
  switch (record[TAG]) {
    case 'Object':
      if (v === null || typeof v !== 'object' || Array.isArray(v)) break;
      return decodeProps(v as Record<string, unknown>, depth);
    case 'Date':
      if (v === null) return new Date(NaN);
      if (typeof v === 'number') return new Date(v);
      break;
    case 'BigInt':
      if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
      break;
    case 'Number':
      if (v === 'NaN' || v === 'Infinity' || v === '-Infinity' || v === '-0') return Number(v);
      break;
    case 'undefined':
      return undefined;
    case 'Buffer':
      if (typeof v === 'string') return Buffer.from(v, 'base64');
      break;
    case 'TypedArray': {
      const name = record.c;
      if (typeof v !== 'string' || typeof name !== 'string' || !hasOwn(TYPED_ARRAYS, name)) break;
      const ctor = TYPED_ARRAYS[name as TypedArrayName];
      const bytes = Buffer.from(v, 'base64');
      if (bytes.byteLength % ctor.BYTES_PER_ELEMENT !== 0) break;
      // Copy into a fresh, aligned buffer: the Buffer pool's offsets may not be.
      const copy = new Uint8Array(bytes.byteLength);
      copy.set(bytes);
      return new ctor(copy.buffer);
    }
    case 'ArrayBuffer':
      if (typeof v === 'string') {
        const bytes = Buffer.from(v, 'base64');
        const copy = new Uint8Array(bytes.byteLength);
        copy.set(bytes);
        return copy.buffer;
      }
      break;
    case 'RegExp':
      if (typeof v === 'string' && typeof record.f === 'string') return new RegExp(v, record.f);
      break;
    case 'Map':
      if (!Array.isArray(v)) break;
      return new Map(
        v.map((pair: unknown) => {
          if (!Array.isArray(pair) || pair.length !== 2) throw new CorruptPayloadError('a Map entry is not a pair');
          return [decode(pair[0], depth + 1), decode(pair[1], depth + 1)] as const;
        }),
      );
    case 'Set':
      if (!Array.isArray(v)) break;
      return new Set(v.map((item: unknown) => decode(item, depth + 1)));
  }
  throw new CorruptPayloadError(`bad tagged value ${JSON.stringify(String(record[TAG])).slice(0, 40)}`);
}

function decodeProps(record: Record<string, unknown>, depth: number): Record<string, unknown> {
  for (const key of Object.keys(record)) {
    if (isPrototypeKey(key)) throw new PrototypeKeyError(key);
    const before = record[key];
    const after = decode(before, depth + 1);
    if (after === before) continue;
    // JSON.parse made `key` an own data property, so this defines data and never reaches a prototype.
    Object.defineProperty(record, key, { value: after, writable: true, enumerable: true, configurable: true });
  }
  return record;
}
