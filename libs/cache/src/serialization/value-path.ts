import { UnsupportedValueError } from './unsupported-value.error';

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `value.user.name`, `value["odd key"]`, `value[3]`: where in a value a walker found a problem. */
export function childPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  return IDENTIFIER.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key.slice(0, 40))}]`;
}

/** Deep enough for real data, shallow enough that no walker overflows the stack. */
export const MAX_VALUE_DEPTH = 256;

/**
 * Objects, and the values the serializer writes AS tagged objects (BigInt, undefined, NaN…), must stay
 * within MAX_VALUE_DEPTH: the serializer's decoder accepts no deeper, and the size estimator applies
 * the same rule so that memory and Redis namespaces accept the same values.
 */
export function checkDepth(path: string, depth: number): void {
  if (depth >= MAX_VALUE_DEPTH) throw new UnsupportedValueError(path, `nested deeper than ${MAX_VALUE_DEPTH} levels`);
}
