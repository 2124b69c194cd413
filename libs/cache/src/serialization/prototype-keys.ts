import { CacheError } from '../errors/cache-error';
import { childPath, MAX_VALUE_DEPTH } from './value-path';

/**
 * Own properties named `__proto__`, `constructor` or `prototype` are how data turns into prototype
 * pollution: `Object.assign`, spreads into class instances, deep merges and class-transformer assign
 * them through the setter or walk into the prototype they name. `JSON.parse` makes `__proto__` an own
 * property, so such data can only come from text written by someone else: the serializer refuses to
 * write or read it, and the `valueSchema` check refuses it again.
 */
export function isPrototypeKey(key: string): boolean {
  return key === '__proto__' || key === 'constructor' || key === 'prototype';
}

const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype'] as const;
const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/** Thrown by the serializer's decoder for a payload whose objects own such a property: the entry reads as a miss and is dropped. */
export class PrototypeKeyError extends CacheError {
  readonly code = 'CACHE_PROTOTYPE_KEY';

  constructor(readonly key: string) {
    super(`an object owns a "${key}" property`);
  }
}

/**
 * The path of the first own `__proto__`/`constructor`/`prototype` property anywhere in `value` (plain
 * and class objects, arrays, Map keys and values, Set members), or undefined. Each object is visited
 * once, and no deeper than the serializer's own limit.
 */
export function findPrototypeKey(value: unknown): string | undefined {
  return walk(value, 'value', 0, new Set());
}

function walk(value: unknown, path: string, depth: number, seen: Set<object>): string | undefined {
  if (value === null || typeof value !== 'object' || seen.has(value) || depth >= MAX_VALUE_DEPTH) return undefined;
  seen.add(value);
  if (value instanceof Map) {
    let i = 0;
    for (const [k, v] of value) {
      const found = walk(k, `${path}[Map entry ${i}].key`, depth + 1, seen) ?? walk(v, `${path}[Map entry ${i}].value`, depth + 1, seen);
      if (found !== undefined) return found;
      i++;
    }
    return undefined;
  }
  if (value instanceof Set) {
    let i = 0;
    for (const v of value) {
      const found = walk(v, `${path}[Set entry ${i++}]`, depth + 1, seen);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof Date || value instanceof RegExp) return undefined;
  // Own properties, enumerable or not: three lookups, whatever the object's size.
  for (const key of PROTOTYPE_KEYS) if (hasOwn(value, key)) return childPath(path, key);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = walk(value[i], childPath(path, i), depth + 1, seen);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    const found = walk((value as Record<string, unknown>)[key], childPath(path, key), depth + 1, seen);
    if (found !== undefined) return found;
  }
  return undefined;
}
