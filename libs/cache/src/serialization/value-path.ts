const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `value.user.name`, `value["odd key"]`, `value[3]`: where in a value a walker found a problem. */
export function childPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  return IDENTIFIER.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key.slice(0, 40))}]`;
}

/** Deep enough for real data, shallow enough that no walker overflows the stack. */
export const MAX_VALUE_DEPTH = 256;
