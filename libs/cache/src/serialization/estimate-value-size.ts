import { binaryKind } from './binary-types';
import { UnsupportedValueError } from './unsupported-value.error';
import { checkDepth, childPath } from './value-path';

/** A character above U+00FF: V8 then stores the whole string with two bytes per character. */
const TWO_BYTE = /[^\u0000-\u00ff]/;

/**
 * Heap bytes of a flat string on 64-bit V8: a 16-byte header, then one byte per character (or two
 * when any character is above U+00FF), rounded up to 8. The test costs a constant ~15 ns on a
 * one-byte string (V8 knows it cannot match) and a scan up to the first wide character otherwise.
 */
export function stringBytes(value: string): number {
  const chars = TWO_BYTE.test(value) ? value.length * 2 : value.length;
  return (23 + chars) & ~7;
}

/*
 * V8's layout on 64-bit without pointer compression (Node's builds), checked against heap growth by
 * `bench:memory-accounting`: an object is a 24-byte header (map, properties, elements) and one
 * 8-byte slot per property (the names live in its shared hidden class); an array a 32-byte header
 * and 16 + 8 per element; a small integer lives in its slot, any other number in a 16-byte box;
 * booleans, null and undefined are shared constants.
 */
const OBJECT_BYTES = 24;
const ARRAY_BYTES = 48;
const SLOT_BYTES = 8;
const HEAP_NUMBER_BYTES = 16;
/**
 * Past this many properties V8 keeps an object as a dictionary: ~3 words per property in a table
 * kept at most half full, and the names are then the object's own strings.
 */
const FAST_PROPERTIES = 128;
const DICTIONARY_PROPERTY_BYTES = 48;
/** Map and Set: the object and its table header; per entry, the table's words at average fill. */
const COLLECTION_BYTES = 48;
const MAP_ENTRY_BYTES = 40;
const SET_ENTRY_BYTES = 28;
const DATE_BYTES = 112;
/** A typed array or Buffer object with its ArrayBuffer object; the bytes themselves are added. */
const VIEW_BYTES = 176;
const ARRAY_BUFFER_BYTES = 96;
const REGEXP_BYTES = 64;

/**
 * Approximate heap bytes of a live value, for the memory backend's `maxBytes` and `maxValueBytes`.
 * It walks the value once, so it also rejects what no backend could store (functions, symbols,
 * promises, cycles): switching a namespace from memory to Redis never changes what `set` accepts.
 * A value shared with other entries or with the application is counted in full by each.
 */
export function estimateValueSize(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return stringBytes(value);
    case 'number':
      return SLOT_BYTES + numberBytes(value);
    case 'boolean':
      return SLOT_BYTES;
    case 'object':
      return value === null ? SLOT_BYTES : objectSize(value, 'value', [], 0);
    default:
      return otherSize(value, 'value');
  }
}

/** Bytes of `value` beyond the 8-byte slot that refers to it. */
function sizeOf(value: unknown, path: string, ancestors: object[], depth: number): number {
  switch (typeof value) {
    case 'string':
      return stringBytes(value);
    case 'number':
      if (!Number.isFinite(value) || Object.is(value, -0)) checkDepth(path, depth);
      return numberBytes(value);
    case 'boolean':
      return 0;
    case 'undefined':
      checkDepth(path, depth);
      return 0;
    case 'object':
      return value === null ? 0 : objectSize(value, path, ancestors, depth);
    default:
      if (typeof value === 'bigint') checkDepth(path, depth);
      return otherSize(value, path);
  }
}

/** A 32-bit integer is a small integer (in its slot); any other number is boxed. */
function numberBytes(value: number): number {
  return (value | 0) === value && !Object.is(value, -0) ? 0 : HEAP_NUMBER_BYTES;
}

function otherSize(value: unknown, path: string): number {
  switch (typeof value) {
    case 'bigint':
      return 16 + Math.ceil(value.toString(16).length / 16) * 8;
    case 'function':
      throw new UnsupportedValueError(path, 'a function');
    case 'symbol':
      throw new UnsupportedValueError(path, 'a symbol');
    default:
      throw new UnsupportedValueError(path, 'undefined (store null to cache an absence)');
  }
}

function objectSize(value: object, path: string, ancestors: object[], depth: number): number {
  checkDepth(path, depth);
  if (ancestors.includes(value)) throw new UnsupportedValueError(path, 'a circular reference');
  if (ArrayBuffer.isView(value)) {
    if (binaryKind(value) === undefined) throw new UnsupportedValueError(path, `a ${value.constructor.name}, which is not supported`);
    return VIEW_BYTES + value.byteLength;
  }
  if (value instanceof ArrayBuffer) return ARRAY_BUFFER_BYTES + value.byteLength;
  if (typeof SharedArrayBuffer !== 'undefined' && value instanceof SharedArrayBuffer) {
    throw new UnsupportedValueError(path, 'a SharedArrayBuffer, which cannot be copied');
  }
  if (value instanceof Date) return DATE_BYTES;
  if (value instanceof RegExp) return REGEXP_BYTES + stringBytes(value.source);
  if (value instanceof Promise) throw new UnsupportedValueError(path, 'a promise (await it first)');
  if (value instanceof WeakMap || value instanceof WeakSet || value instanceof WeakRef) {
    throw new UnsupportedValueError(path, `a ${value.constructor.name}, which cannot be copied`);
  }
  ancestors.push(value);
  let size: number;
  if (Array.isArray(value)) {
    size = ARRAY_BYTES + value.length * SLOT_BYTES;
    for (let i = 0; i < value.length; i++) size += sizeOf(value[i], childPath(path, i), ancestors, depth + 1);
  } else if (value instanceof Map) {
    size = COLLECTION_BYTES;
    let i = 0;
    for (const [k, v] of value) {
      const entryPath = `${path}[Map entry ${i++}]`;
      size += MAP_ENTRY_BYTES + sizeOf(k, `${entryPath}.key`, ancestors, depth + 1) + sizeOf(v, `${entryPath}.value`, ancestors, depth + 1);
    }
  } else if (value instanceof Set) {
    size = COLLECTION_BYTES;
    let i = 0;
    for (const v of value) size += SET_ENTRY_BYTES + sizeOf(v, `${path}[Set entry ${i++}]`, ancestors, depth + 1);
  } else if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    // As the serializer does: what gets stored is the toJSON() form.
    const json = (value as { toJSON(): unknown }).toJSON();
    if (json === undefined && depth === 0) throw new UnsupportedValueError(path, 'an object whose toJSON() returns undefined');
    size = sizeOf(json, path, ancestors, depth + 1);
  } else {
    const keys = Object.keys(value);
    const dictionary = keys.length > FAST_PROPERTIES;
    size = OBJECT_BYTES;
    for (const key of keys) {
      size += dictionary ? DICTIONARY_PROPERTY_BYTES + stringBytes(key) : SLOT_BYTES;
      size += sizeOf((value as Record<string, unknown>)[key], childPath(path, key), ancestors, depth + 1);
    }
  }
  ancestors.pop();
  return size;
}
