import { createHash } from 'node:crypto';
import { CacheKeySpec } from './cache-decorator-options';

/** Builds a cache key from a call's arguments. */
export type KeyBuilder = (args: readonly unknown[]) => string;

/** What a key error needs to name the method. */
export interface MethodRef {
  readonly className: string;
  readonly methodName: string;
  readonly parameterNames: readonly (string | null)[];
}

/** Raised when a decorator is applied with a key that cannot work: at class definition, naming the method. */
export class CacheDecoratorError extends TypeError {
  constructor(method: Pick<MethodRef, 'className' | 'methodName'>, decorator: string, problem: string) {
    super(`@${decorator} on ${method.className}.${method.methodName}: ${problem}`);
    this.name = 'CacheDecoratorError';
  }
}

const PLACEHOLDER = /\{\{|\}\}|\{([^{}]*)\}/g;
const LONG_KEY = 200;

/**
 * Compiles a key spec once, at decoration time; a template that names a parameter the method does
 * not have, or an index past its parameters, fails right there.
 */
export function compileKey(spec: CacheKeySpec | undefined, method: MethodRef, decorator: string): KeyBuilder {
  if (spec === undefined) return (args) => defaultKey(method, args);
  if (typeof spec === 'function') {
    return (args) => {
      const key = spec(...args);
      if (typeof key !== 'string') throw new CacheDecoratorError(method, decorator, `the key function returned ${typeof key}, not a string`);
      return key;
    };
  }
  if (typeof spec !== 'string' || spec.length === 0) throw new CacheDecoratorError(method, decorator, 'key must be a non-empty string template or a function');
  const parts: (string | ((args: readonly unknown[]) => string))[] = [];
  let last = 0;
  for (const match of spec.matchAll(PLACEHOLDER)) {
    parts.push(spec.slice(last, match.index));
    last = match.index! + match[0].length;
    if (match[0] === '{{') parts.push('{');
    else if (match[0] === '}}') parts.push('}');
    else parts.push(placeholder(match[1].trim(), spec, method, decorator));
  }
  const rest = spec.slice(last);
  if (/[{}]/.test(rest)) throw new CacheDecoratorError(method, decorator, `unbalanced brace in key template '${spec}' (write {{ or }} for a literal brace)`);
  parts.push(rest);
  return (args) => parts.map((part) => (typeof part === 'string' ? part : part(args))).join('');
}

function placeholder(expression: string, spec: string, method: MethodRef, decorator: string): (args: readonly unknown[]) => string {
  const [head, ...path] = expression.split('.');
  let index: number;
  if (/^\d+$/.test(head)) {
    index = Number(head);
    if (index >= method.parameterNames.length) {
      throw new CacheDecoratorError(method, decorator, `key template '${spec}' refers to argument ${index}, but the method has ${method.parameterNames.length} parameter(s)`);
    }
  } else {
    index = method.parameterNames.indexOf(head);
    if (index < 0) {
      const known = method.parameterNames.filter((n) => n !== null).join(', ') || 'none';
      throw new CacheDecoratorError(method, decorator, `key template '${spec}' refers to {${head}}, which is not a parameter (parameters: ${known})`);
    }
  }
  if (path.some((p) => !/^[\w$]+$/.test(p))) throw new CacheDecoratorError(method, decorator, `bad path {${expression}} in key template '${spec}'`);
  return (args) => {
    let value: unknown = args[index];
    for (const step of path) value = value === null || value === undefined ? undefined : (value as Record<string, unknown>)[step];
    if (value === undefined) {
      throw new CacheDecoratorError(method, decorator, `key template '${spec}': {${expression}} is undefined for this call`);
    }
    return typeof value === 'string' ? value : stableStringify(value);
  };
}

/**
 * `ClassName.method(arg1,arg2)` with each argument in a stable JSON form (object keys sorted, Dates
 * as ISO strings, Maps and Sets as arrays, BigInts as `12n`); keys over 200 characters become
 * `ClassName.method#<sha256 of the arguments>`.
 */
export function defaultKey(method: Pick<MethodRef, 'className' | 'methodName'>, args: readonly unknown[]): string {
  let rendered: string;
  try {
    rendered = args.map((a) => stableStringify(a)).join(',');
  } catch (error) {
    throw new CacheDecoratorError(method, 'Cacheable', `cannot derive a key from the arguments (${(error as Error).message}); give a key`);
  }
  const key = `${method.className}.${method.methodName}(${rendered})`;
  if (key.length <= LONG_KEY) return key;
  return `${method.className}.${method.methodName}#${createHash('sha256').update(rendered).digest('base64url')}`;
}

/** JSON with sorted object keys, so that `{a,b}` and `{b,a}` give one key. */
export function stableStringify(value: unknown, seen: object[] = []): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
    case 'boolean':
      return String(value);
    case 'bigint':
      return `${value}n`;
    case 'undefined':
      return 'undefined';
    case 'function':
    case 'symbol':
      throw new TypeError(`an argument is a ${typeof value}`);
  }
  if (value === null) return 'null';
  const object = value as object;
  if (seen.includes(object)) throw new TypeError('an argument is circular');
  if (object instanceof Date) return JSON.stringify(object.toISOString());
  seen.push(object);
  let out: string;
  if (Array.isArray(object)) out = `[${object.map((v) => stableStringify(v, seen)).join(',')}]`;
  else if (object instanceof Map) out = `Map[${[...object].map(([k, v]) => `${stableStringify(k, seen)}:${stableStringify(v, seen)}`).join(',')}]`;
  else if (object instanceof Set) out = `Set[${[...object].map((v) => stableStringify(v, seen)).join(',')}]`;
  else {
    const record = object as Record<string, unknown>;
    out = `{${Object.keys(record).sort().map((k) => `${JSON.stringify(k)}:${stableStringify(record[k], seen)}`).join(',')}}`;
  }
  seen.pop();
  return out;
}
