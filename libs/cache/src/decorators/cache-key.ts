import { createHash } from 'node:crypto';
import { CacheError } from '../errors/cache-error';
import { InvalidArgumentError } from '../errors/invalid-argument.error';
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
export class CacheDecoratorError extends CacheError {
  readonly code = 'CACHE_DECORATOR_MISUSE';

  constructor(method: Pick<MethodRef, 'className' | 'methodName'>, decorator: string, problem: string) {
    super(`@${decorator} on ${method.className}.${method.methodName}: ${problem}`);
  }
}

/**
 * A key or tag that this call's arguments cannot make (a placeholder that is undefined, a value that
 * cannot be written in a key, default-key arguments that cannot be rendered): the decorated method
 * then runs without the cache, like one whose key breaks the namespace's rules. The message names
 * the template and the placeholder, never the value.
 */
export class KeyArgumentError extends CacheDecoratorError {}

const PLACEHOLDER = /\{\{|\}\}|\{([^{}]*)\}/g;
const LONG_KEY = 200;

/**
 * Compiles a key spec once, at decoration time; a template that names a parameter the method does
 * not have, or an index past its parameters, or that could not be read back unambiguously (see
 * `compileTemplate`), fails right there.
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
  return compileTemplate(
    spec,
    method.parameterNames,
    (problem) => new CacheDecoratorError(method, decorator, problem),
    (problem) => new KeyArgumentError(method, decorator, problem),
  );
}

/**
 * Compiles a template over named or numbered values. Each value is written with `encodeKeyPart`,
 * which leaves only letters, digits, `-`, `.`, `_`, `~` and `%XX` escapes in it; so that a key can be
 * read back into its values, a placeholder must be followed by the end of the template or by a
 * character values never hold (`:`, `/`, `|`, `#`, a space…): not by another placeholder, a letter,
 * a digit, `-`, `.`, `_`, `~` or `%`.
 */
function compileTemplate(
  spec: string, names: readonly (string | null)[], fail: (problem: string) => Error,
  /** The error of a call whose arguments cannot fill the template. */
  failCall: (problem: string) => Error = fail,
): KeyBuilder {
  const literals: string[] = [];
  const values: ((args: readonly unknown[]) => string)[] = [];
  let previous = '';
  // The literal text after a placeholder must start with a character no value holds.
  const checkFollowing = (literal: string, end: boolean): void => {
    if (literal === '' && !end) {
      throw fail(`in key template '${spec}', {${previous}} is directly followed by another placeholder; put a separator such as ':' between them`);
    }
    if (literal !== '' && VALUE_CHARACTER.test(literal[0])) {
      throw fail(
        `in key template '${spec}', {${previous}} is followed by '${literal[0]}', which a value may hold, so the key could not be ` +
          "read back into its values; follow each placeholder with a separator such as ':' or '/'",
      );
    }
  };
  let literal = '';
  let last = 0;
  for (const match of spec.matchAll(PLACEHOLDER)) {
    literal += spec.slice(last, match.index);
    last = match.index! + match[0].length;
    if (match[0] === '{{') literal += '{';
    else if (match[0] === '}}') literal += '}';
    else {
      if (values.length > 0) checkFollowing(literal, false);
      literals.push(literal);
      literal = '';
      previous = match[1].trim();
      values.push(placeholder(previous, spec, names, fail, failCall));
    }
  }
  const rest = spec.slice(last);
  if (/[{}]/.test(rest)) throw fail(`unbalanced brace in key template '${spec}' (write {{ or }} for a literal brace)`);
  literal += rest;
  if (values.length > 0) checkFollowing(literal, true);
  literals.push(literal);
  if (values.length === 0) return () => literal;
  return (args) => {
    let key = literals[0];
    for (let i = 0; i < values.length; i++) key += values[i](args) + literals[i + 1];
    return key;
  };
}

/** Characters an encoded value may hold (`%` from its escapes): none of them may follow a placeholder. */
const VALUE_CHARACTER = /[A-Za-z0-9\-._~%]/;

function placeholder(
  expression: string, spec: string, names: readonly (string | null)[], fail: (problem: string) => Error, failCall: (problem: string) => Error,
): (args: readonly unknown[]) => string {
  const [head, ...path] = expression.split('.');
  let index: number;
  if (/^\d+$/.test(head)) {
    index = Number(head);
    if (index >= names.length) {
      throw fail(`key template '${spec}' refers to argument ${index}, but the method has ${names.length} parameter(s)`);
    }
  } else {
    index = names.indexOf(head);
    if (index < 0) {
      const known = names.filter((n) => n !== null).join(', ') || 'none';
      throw fail(`key template '${spec}' refers to {${head}}, which is not a parameter (parameters: ${known})`);
    }
  }
  if (path.some((p) => !/^[\w$]+$/.test(p))) throw fail(`bad path {${expression}} in key template '${spec}'`);
  return (args) => {
    let value: unknown = args[index];
    for (const step of path) value = value === null || value === undefined ? undefined : (value as Record<string, unknown>)[step];
    if (value === undefined) throw failCall(`key template '${spec}': {${expression}} is undefined for this call`);
    try {
      return encodeKeyPart(value);
    } catch (error) {
      throw failCall(`key template '${spec}': {${expression}} cannot be written in a key (${(error as Error).message})`);
    }
  };
}

/** `%00`…`%FF`. */
const ESCAPES = Array.from({ length: 256 }, (_, byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`);
/** RFC 3986 "unreserved": written as they are. */
const UNRESERVED = /^[A-Za-z0-9\-._~]*$/;
/**
 * Starts the encoding of a value that is not a string, number, boolean, bigint or Date: the escape
 * of byte 0xFF, which UTF-8 never holds, so that no string encodes to it.
 */
const STRUCTURED = ESCAPES[0xff];

/**
 * How a key template writes one value, so that a value never holds a template separator and two
 * different values never give one text:
 * - a string is put in Unicode NFC and percent-encoded as UTF-8 (upper-case hex), except the RFC 3986
 *   unreserved characters `A-Z a-z 0-9 - . _ ~`: `42` → `42`, `alice:orders` → `alice%3Aorders`,
 *   `a b/c` → `a%20b%2Fc`, `café` → `caf%C3%A9`; control and invisible characters are escaped like
 *   any other (a lone UTF-16 surrogate is written as its three WTF-8 bytes, `%ED%A0%80`);
 * - a number, boolean or bigint is written as its `String()` (`42`, `42n` and `'42'` are one key: route
 *   parameters arrive as strings), a Date as its ISO string (`toISOString()`; an invalid Date as
 *   `Invalid Date`);
 * - anything else (object, array, Map, Set, null) as `%FF` followed by its stable JSON form (see
 *   `stableStringify`), encoded the same way; `%FF` never starts a string's encoding, so an object can
 *   never give a string's key.
 * Functions and symbols are refused (TypeError).
 */
export function encodeKeyPart(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return UNRESERVED.test(value) ? value : percentEncode(value.normalize('NFC'));
    case 'number':
    case 'boolean':
    case 'bigint':
      return percentEncode(String(value));
    case 'function':
    case 'symbol':
    case 'undefined':
      throw new InvalidArgumentError(`a key cannot hold a ${typeof value}`);
  }
  if (value instanceof Date) return percentEncode(Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString());
  return STRUCTURED + percentEncode(stableStringify(value).normalize('NFC'));
}

function percentEncode(text: string): string {
  if (UNRESERVED.test(text)) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      out += UNRESERVED_CODE[c] === 1 ? text[i] : ESCAPES[c];
      continue;
    }
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
        i++;
      }
    }
    if (c < 0x800) out += ESCAPES[0xc0 | (c >> 6)] + ESCAPES[0x80 | (c & 0x3f)];
    else if (c < 0x10000) out += ESCAPES[0xe0 | (c >> 12)] + ESCAPES[0x80 | ((c >> 6) & 0x3f)] + ESCAPES[0x80 | (c & 0x3f)];
    else out += ESCAPES[0xf0 | (c >> 18)] + ESCAPES[0x80 | ((c >> 12) & 0x3f)] + ESCAPES[0x80 | ((c >> 6) & 0x3f)] + ESCAPES[0x80 | (c & 0x3f)];
  }
  return out;
}

const UNRESERVED_CODE = Uint8Array.from({ length: 128 }, (_, c) => (UNRESERVED.test(String.fromCharCode(c)) ? 1 : 0));

/**
 * The key a template gives for these values, exactly as `@Cacheable`, `@CachePut` and `@CacheEvict`
 * build it: for `invalidate()` or `get()` calls by hand. Placeholders name the properties of `values`
 * (`{id}`, `{user.id}`), or their positions when `values` is an array (`{0}`).
 *
 * ```ts
 * await users.invalidate(formatCacheKey('user:{id}:orders', { id })); // 'user:alice%3Aorders:orders' for id 'alice:orders'
 * ```
 */
export function formatCacheKey(template: string, values: Readonly<Record<string, unknown>> | readonly unknown[]): string {
  const fail = (problem: string) => new InvalidArgumentError(`formatCacheKey: ${problem}`);
  if (typeof template !== 'string' || template.length === 0) throw fail('the template must be a non-empty string');
  if (values === null || typeof values !== 'object') throw fail('values must be an object or an array');
  if (Array.isArray(values)) return compileTemplate(template, values.map(() => null), fail)(values);
  const names = Object.keys(values);
  return compileTemplate(template, names, fail)(names.map((name) => (values as Record<string, unknown>)[name]));
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
    throw new KeyArgumentError(method, 'Cacheable', `cannot derive a key from the arguments (${(error as Error).message}); give a key`);
  }
  const key = `${method.className}.${method.methodName}(${rendered})`;
  if (key.length <= LONG_KEY) return key;
  return `${method.className}.${method.methodName}#${createHash('sha256').update(rendered).digest('base64url')}`;
}

/**
 * JSON with sorted object keys, so that `{a,b}` and `{b,a}` give one key. An object that is not a
 * plain object, array, Map, Set, Date or byte array is written as JSON would write it when it says
 * how (`toJSON`: a URL, an ObjectId, a Decimal), otherwise as its own properties after its class
 * name; one with nothing of its own to tell it apart (private fields, prototype getters) by its
 * `toString()` when the class writes one, and refused otherwise: it would give every instance one
 * key (all users one entry).
 */
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
      throw new InvalidArgumentError(`an argument is a ${typeof value}`);
  }
  if (value === null) return 'null';
  const object = value as object;
  if (seen.includes(object)) throw new InvalidArgumentError('an argument is circular');
  if (object instanceof Date) return JSON.stringify(object.toISOString());
  seen.push(object);
  let out: string;
  if (Array.isArray(object)) out = `[${object.map((v) => stableStringify(v, seen)).join(',')}]`;
  else if (object instanceof Map) out = `Map[${[...object].map(([k, v]) => `${stableStringify(k, seen)}:${stableStringify(v, seen)}`).join(',')}]`;
  else if (object instanceof Set) out = `Set[${[...object].map((v) => stableStringify(v, seen)).join(',')}]`;
  else out = recordText(object, seen);
  seen.pop();
  return out;
}

/** A plain object (or a null-prototype one) as `{…}`; a class instance as `Class{…}`, `Class(toJSON)` or `Class<toString>`. */
function recordText(object: object, seen: object[]): string {
  const record = object as Record<string, unknown>;
  const prototype = Object.getPrototypeOf(object);
  const own = Object.keys(record);
  const fields = (): string => `{${own.sort().map((k) => `${JSON.stringify(k)}:${stableStringify(record[k], seen)}`).join(',')}}`;
  if (prototype === Object.prototype || prototype === null || ArrayBuffer.isView(object)) return fields();
  const name = typeof prototype?.constructor?.name === 'string' ? prototype.constructor.name : '';
  if (typeof record.toJSON === 'function') {
    const json = (record.toJSON as () => unknown)();
    if (json !== object) return `${name}(${stableStringify(json, seen)})`;
  }
  if (own.length > 0) return `${name}${fields()}`;
  if (typeof record.toString === 'function' && record.toString !== Object.prototype.toString) {
    return `${name}<${JSON.stringify(String(object))}>`;
  }
  throw new InvalidArgumentError(`an argument is a ${name || 'class'} instance with no own properties, toJSON() or toString() to tell it from another`);
}
