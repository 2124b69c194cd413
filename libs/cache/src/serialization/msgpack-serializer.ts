import { InvalidArgumentError } from '../errors/invalid-argument.error';
import { BinarySerializer } from './binary-serializer.interface';
import { binaryKind, TYPED_ARRAYS, TypedArrayName } from './binary-types';
import { CorruptPayloadError } from './corrupt-payload.error';
import { loadMsgpackr, Msgpackr } from './msgpackr';
import { isPrototypeKey, PrototypeKeyError } from './prototype-keys';
import { UnsupportedValueError } from './unsupported-value.error';
import { childPath, MAX_VALUE_DEPTH } from './value-path';

export const MSGPACKR_MISSING = 'MsgpackSerializer needs the optional package msgpackr, which is not installed: `npm install msgpackr`, or leave the serializer unset (tagged JSON)';

const TAG = '$t';
/** msgpackr decodes a `__proto__` map key as this key (it never assigns a prototype): refused both ways, like `__proto__` itself. */
const RENAMED_PROTO = '__proto_';
const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);
/** The prototype keys and `__proto_` are 8 to 11 characters long: most keys are settled by their length. */
const isRefusedKey = (key: string): boolean => key.length >= 8 && key.length <= 11 && (isPrototypeKey(key) || key === RENAMED_PROTO);

/**
 * MessagePack on the optional `msgpackr` package: values become bytes, for namespaces with binary
 * payloads (Redis). It round-trips what `TaggedJsonSerializer` does: Date, BigInt (any size), Map,
 * Set, Buffer, Uint8Array and the other typed arrays, ArrayBuffer, RegExp, undefined, NaN, ±Infinity
 * and -0; objects with a `toJSON` method are stored as what it returns (Decimal, Luxon…). Differences:
 * a Uint8Array comes back as a Uint8Array (a Buffer as a Buffer), and an own `__proto_` property is
 * refused (below).
 *
 * Every entry is readable by any instance: no shared record structures (`useRecords: false`), no
 * structured-clone references, objects as MessagePack maps. Maps, -0, typed arrays other than
 * Uint8Array and objects that own a `$t` key are tagged objects, as in tagged JSON.
 *
 * Safety rules as in tagged JSON: a value with an own `__proto__`, `constructor`, `prototype` (or
 * `__proto_`, the name msgpackr gives a `__proto__` key it reads) property is refused on write
 * (`UnsupportedValueError`, an `InvalidValueError` for the caller), and bytes with one on read
 * (`PrototypeKeyError`: a miss, and the entry is dropped). Functions, symbols, circular references,
 * promises and weak collections are `UnsupportedValueError`s; nesting deeper than 256 levels is
 * refused both ways; truncated, trailing or foreign bytes and types it never writes (Error, DataView)
 * are `CorruptPayloadError`s. Class instances come back as plain objects.
 */
export class MsgpackSerializer implements BinarySerializer {
  readonly name = 'msgpack';
  private readonly packr: { pack(value: unknown): Buffer };
  private readonly unpackr: { unpack(bytes: Buffer): unknown };

  /** Throws `InvalidArgumentError` when msgpackr is not installed. */
  constructor() {
    const msgpackr: Msgpackr | null = loadMsgpackr();
    if (msgpackr === null) throw new InvalidArgumentError(MSGPACKR_MISSING);
    // `useToJSON: false`: the walk below has already replaced such objects by their JSON form.
    this.packr = new msgpackr.Packr({ useRecords: false, moreTypes: true, useToJSON: false, variableMapSize: true, encodeUndefinedAsNil: false, bundleStrings: false, sequential: false });
    // `copyBuffers`: decoded Buffers must not be views of the payload (a provider may reuse its plaintext buffer).
    this.unpackr = new msgpackr.Unpackr({
      useRecords: false, mapsAsObjects: true, moreTypes: true, copyBuffers: true, structuredClone: false, int64AsType: 'bigint', bundleStrings: false, sequential: false,
    });
  }

  serializeBytes(value: unknown): Uint8Array {
    const packable = new PackWalk().prepare(value, 0);
    // A top-level undefined (e.g. from toJSON()) would read back as a miss forever.
    if (packable === undefined) throw new UnsupportedValueError('value', 'undefined (store null to cache an absence)');
    return this.packr.pack(packable);
  }

  deserializeBytes(payload: Buffer): unknown {
    let decoded: unknown;
    try {
      decoded = this.unpackr.unpack(payload);
    } catch (error) {
      // msgpackr's messages may quote the data: the error says what went wrong, not what was read.
      throw new CorruptPayloadError(`not a MessagePack value it reads (${unpackProblem(error)})`, { cause: error });
    }
    if (decoded === undefined) throw new CorruptPayloadError('a top-level undefined');
    return restore(decoded, 0);
  }
}

function unpackProblem(error: unknown): string {
  const message = String((error as Error | undefined)?.message);
  if (message.startsWith('Data read, but end of buffer not reached')) return 'trailing bytes';
  if (/^Unexpected end/.test(message)) return 'truncated';
  if (error instanceof RangeError && /call stack/i.test(message)) return 'nested too deep';
  return 'malformed';
}

/** A step of the path to the part of a value being walked: a key, an index, or a Map or Set entry. */
type Step = string | number | { readonly entry: string };

/**
 * The write side: checks a value against the rules and returns what msgpackr packs, the value itself
 * unless something in it needs a tag (Map, -0, typed arrays, an own `$t` key) or a replacement
 * (`toJSON`, Error, Uint8Array subclasses); then only the objects on the way to it are copied.
 */
class PackWalk {
  private readonly ancestors: object[] = [];
  /** Where the walk is, kept as steps and turned into a path only for an error. */
  private readonly trail: Step[] = [];

  prepare(value: unknown, depth: number): unknown {
    switch (typeof value) {
      case 'string':
      case 'boolean':
      case 'bigint':
      case 'undefined':
        return value;
      case 'number':
        if (value !== 0 || 1 / value > 0) return value;
        // msgpackr writes -0 as the integer 0.
        this.checkDepth(depth);
        return { [TAG]: 'Number', v: '-0' };
      case 'function':
        throw this.unsupported('a function');
      case 'symbol':
        throw this.unsupported('a symbol');
    }
    if (value === null) return null;
    return this.prepareObject(value as object, depth);
  }

  private prepareObject(value: object, depth: number): unknown {
    this.checkDepth(depth);
    const ancestors = this.ancestors;
    if (ancestors.includes(value)) throw this.unsupported('a circular reference');
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null && !Array.isArray(value)) {
      if (value instanceof Date || value instanceof RegExp || value instanceof ArrayBuffer) return value;
      if (ArrayBuffer.isView(value)) return this.prepareView(value);
      if (typeof SharedArrayBuffer !== 'undefined' && value instanceof SharedArrayBuffer) throw this.unsupported('a SharedArrayBuffer, which cannot be copied');
      if (value instanceof Promise) throw this.unsupported('a promise (await it first)');
      if (value instanceof WeakMap || value instanceof WeakSet || value instanceof WeakRef) throw this.unsupported(`a ${value.constructor.name}, which cannot be serialized`);
    }
    ancestors.push(value);
    let out: unknown;
    if (Array.isArray(value)) out = this.prepareArray(value, depth);
    else if (value instanceof Map) out = this.prepareMap(value, depth);
    else if (value instanceof Set) out = this.prepareSet(value, depth);
    // Decimal, Luxon, Mongo ObjectId…: their own JSON form, as JSON.stringify and tagged JSON take it.
    else if (typeof (value as { toJSON?: unknown }).toJSON === 'function') out = this.prepare((value as { toJSON(): unknown }).toJSON(), depth + 1);
    // Plain objects, and class instances as their own enumerable properties (an Error would otherwise be msgpackr's Error extension).
    else out = this.prepareProps(value, depth, value instanceof Error);
    ancestors.pop();
    return out;
  }

  private prepareArray(value: unknown[], depth: number): unknown[] {
    let out: unknown[] | undefined;
    const trail = this.trail;
    for (let i = 0; i < value.length; i++) {
      trail.push(i);
      const item = value[i];
      const packed = this.prepare(item, depth + 1);
      trail.pop();
      if (packed !== item && out === undefined) out = value.slice();
      if (out !== undefined) out[i] = packed;
    }
    return out ?? value;
  }

  /** Own enumerable properties; a copy (null prototype: a key is data, never a prototype) when one changes, or `copy` is asked for. */
  private prepareProps(value: object, depth: number, copy = false): unknown {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record);
    let out: Record<string, unknown> | undefined = copy ? Object.create(null) : undefined;
    const trail = this.trail;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      if (isRefusedKey(key)) {
        trail.push(key);
        throw this.unsupported('a property that could pollute a prototype when read back (rename it)');
      }
      trail.push(key);
      const item = record[key];
      const packed = this.prepare(item, depth + 1);
      trail.pop();
      if (packed !== item && out === undefined) {
        out = Object.create(null) as Record<string, unknown>;
        for (let j = 0; j < i; j++) out[keys[j]] = record[keys[j]];
      }
      if (out !== undefined) out[key] = packed;
    }
    const props = out ?? record;
    return hasOwn(record, TAG) ? { [TAG]: 'Object', v: props } : props;
  }

  private prepareMap(value: Map<unknown, unknown>, depth: number): unknown {
    const flat = new Array<unknown>(value.size * 2);
    let i = 0;
    for (const [k, v] of value) {
      this.trail.push({ entry: `[Map entry ${i / 2}].key` });
      flat[i++] = this.prepare(k, depth + 1);
      this.trail[this.trail.length - 1] = { entry: `[Map entry ${(i - 1) / 2}].value` };
      flat[i++] = this.prepare(v, depth + 1);
      this.trail.pop();
    }
    return { [TAG]: 'Map', v: flat };
  }

  private prepareSet(value: Set<unknown>, depth: number): unknown {
    const items = new Array<unknown>(value.size);
    let changed = false;
    let i = 0;
    for (const item of value) {
      this.trail.push({ entry: `[Set entry ${i}]` });
      const packed = this.prepare(item, depth + 1);
      this.trail.pop();
      changed ||= packed !== item;
      items[i++] = packed;
    }
    return changed ? new Set(items) : value;
  }

  /**
   * Buffers and Uint8Arrays as MessagePack binary data (a subclass as a Uint8Array); the other typed
   * arrays tagged JSON takes as a tag around their bytes, which reads back whatever realm wrote them.
   */
  private prepareView(view: ArrayBufferView): unknown {
    const kind = binaryKind(view);
    if (kind === undefined) throw this.unsupported(`a ${view.constructor.name}, which is not supported`);
    if (kind === 'Buffer') return Buffer.isBuffer(view) || view.constructor === Uint8Array ? view : new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice();
    return { [TAG]: 'TypedArray', c: kind, v: Buffer.from(view.buffer, view.byteOffset, view.byteLength) };
  }

  private checkDepth(depth: number): void {
    if (depth >= MAX_VALUE_DEPTH) throw this.unsupported(`nested deeper than ${MAX_VALUE_DEPTH} levels`);
  }

  private unsupported(reason: string): UnsupportedValueError {
    let path = 'value';
    for (const step of this.trail) path = typeof step === 'object' ? path + step.entry : childPath(path, step);
    return new UnsupportedValueError(path, reason);
  }
}

/**
 * The read side: what msgpackr decoded, checked (depth, prototype keys, only the types the writer
 * produces) and with its tags restored, in place where it can be.
 */
function restore(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_VALUE_DEPTH) throw new CorruptPayloadError(`nested deeper than ${MAX_VALUE_DEPTH} levels`);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const restored = restore(item, depth + 1);
      if (restored !== item) value[i] = restored;
    }
    return value;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === Object.prototype) {
    const record = value as Record<string, unknown>;
    return hasOwn(record, TAG) ? restoreTagged(record, depth) : restoreProps(record, depth);
  }
  if (value instanceof Date || value instanceof RegExp || value instanceof ArrayBuffer) return value;
  if (ArrayBuffer.isView(value) && binaryKind(value) !== undefined) return value;
  if (value instanceof Set) {
    let changed = false;
    const items: unknown[] = [];
    for (const item of value) {
      const restored = restore(item, depth + 1);
      changed ||= restored !== item;
      items.push(restored);
    }
    return changed ? new Set(items) : value;
  }
  throw new CorruptPayloadError(`a ${(value as object).constructor?.name ?? 'null-prototype object'}, which this serializer never writes`);
}

function restoreProps(record: Record<string, unknown>, depth: number): Record<string, unknown> {
  const keys = Object.keys(record);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    if (isRefusedKey(key)) throw new PrototypeKeyError(key === RENAMED_PROTO ? '__proto__' : key);
    const item = record[key];
    const restored = restore(item, depth + 1);
    // `key` is an own data property (and never `__proto__`): this assignment defines data only.
    if (restored !== item) record[key] = restored;
  }
  return record;
}

function restoreTagged(record: Record<string, unknown>, depth: number): unknown {
  const v = record.v;
  switch (record[TAG]) {
    case 'Object':
      if (v === null || typeof v !== 'object' || Object.getPrototypeOf(v) !== Object.prototype) break;
      return restoreProps(v as Record<string, unknown>, depth);
    case 'Map': {
      if (!Array.isArray(v) || v.length % 2 !== 0) break;
      const map = new Map<unknown, unknown>();
      for (let i = 0; i < v.length; i += 2) map.set(restore(v[i], depth + 1), restore(v[i + 1], depth + 1));
      return map;
    }
    case 'Number':
      if (v === '-0') return -0;
      break;
    case 'TypedArray': {
      const name = record.c;
      if (!(v instanceof Uint8Array) || typeof name !== 'string' || !hasOwn(TYPED_ARRAYS, name)) break;
      const ctor = TYPED_ARRAYS[name as TypedArrayName];
      if (v.byteLength % ctor.BYTES_PER_ELEMENT !== 0) break;
      // Copied into a fresh, aligned buffer.
      const copy = new Uint8Array(v.byteLength);
      copy.set(v);
      return new ctor(copy.buffer);
    }
  }
  throw new CorruptPayloadError(`bad tagged value ${JSON.stringify(String(record[TAG])).slice(0, 40)}`);
}
