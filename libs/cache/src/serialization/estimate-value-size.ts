import { binaryKind } from './binary-types';
import { UnsupportedValueError } from './unsupported-value.error';
import { checkDepth, childPath } from './value-path';

/**
 * Approximate heap bytes of a live value, for the memory backend's `maxBytes` and `maxValueBytes`.
 * It walks the value once, so it also rejects what no backend could store (functions, symbols,
 * promises, cycles): switching a namespace from memory to Redis never changes what `set` accepts.
 * The model is V8's rough layout (two bytes per string character, 8 per number or pointer); it is an
 * estimate, not a measurement.
 */
export function estimateValueSize(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return 16 + value.length * 2;
    case 'number':
      return 8;
    case 'boolean':
      return 4;
    case 'object':
      return value === null ? 4 : objectSize(value, 'value', [], 0);
    default:
      return otherSize(value, 'value');
  }
}

function sizeOf(value: unknown, path: string, ancestors: object[], depth: number): number {
  switch (typeof value) {
    case 'string':
      return 16 + value.length * 2;
    case 'number':
      if (!Number.isFinite(value) || Object.is(value, -0)) checkDepth(path, depth);
      return 8;
    case 'boolean':
      return 4;
    case 'undefined':
      checkDepth(path, depth);
      return 4;
    case 'object':
      return value === null ? 4 : objectSize(value, path, ancestors, depth);
    default:
      if (typeof value === 'bigint') checkDepth(path, depth);
      return otherSize(value, path);
  }
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
    return 64 + value.byteLength;
  }
  if (value instanceof ArrayBuffer) return 64 + value.byteLength;
  if (typeof SharedArrayBuffer !== 'undefined' && value instanceof SharedArrayBuffer) {
    throw new UnsupportedValueError(path, 'a SharedArrayBuffer, which cannot be copied');
  }
  if (value instanceof Date) return 32;
  if (value instanceof RegExp) return 64 + value.source.length * 2;
  if (value instanceof Promise) throw new UnsupportedValueError(path, 'a promise (await it first)');
  if (value instanceof WeakMap || value instanceof WeakSet || value instanceof WeakRef) {
    throw new UnsupportedValueError(path, `a ${value.constructor.name}, which cannot be copied`);
  }
  ancestors.push(value);
  let size: number;
  if (Array.isArray(value)) {
    size = 16 + value.length * 8;
    for (let i = 0; i < value.length; i++) size += sizeOf(value[i], childPath(path, i), ancestors, depth + 1);
  } else if (value instanceof Map) {
    size = 32;
    let i = 0;
    for (const [k, v] of value) {
      const entryPath = `${path}[Map entry ${i++}]`;
      size += 24 + sizeOf(k, `${entryPath}.key`, ancestors, depth + 1) + sizeOf(v, `${entryPath}.value`, ancestors, depth + 1);
    }
  } else if (value instanceof Set) {
    size = 32;
    let i = 0;
    for (const v of value) size += 16 + sizeOf(v, `${path}[Set entry ${i++}]`, ancestors, depth + 1);
  } else if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    // As the serializer does: what gets stored is the toJSON() form.
    const json = (value as { toJSON(): unknown }).toJSON();
    if (json === undefined && depth === 0) throw new UnsupportedValueError(path, 'an object whose toJSON() returns undefined');
    size = sizeOf(json, path, ancestors, depth + 1);
  } else {
    size = 24;
    for (const key of Object.keys(value)) {
      size += 8 + key.length + sizeOf((value as Record<string, unknown>)[key], childPath(path, key), ancestors, depth + 1);
    }
  }
  ancestors.pop();
  return size;
}
