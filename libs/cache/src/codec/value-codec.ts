import { Logger } from '@nestjs/common';
import { OversizedPayload } from '../backends/cache-backend.interface';
import { InvalidValueError } from '../errors/invalid-value.error';
import { ValueTooLargeError } from '../errors/value-too-large.error';
import { CacheEvents } from '../events/cache-events';
import { logLine } from '../logging/log-line';
import { createNamespaceCipher } from '../security/create-namespace-cipher';
import { DecryptionFailedError } from '../security/decryption-failed.error';
import { ResolvedEncryption } from '../security/encryption-options';
import { ValueSchemaCheck } from '../security/value-schema/value-schema';
import { estimateValueSize } from '../serialization/estimate-value-size';
import { overByteLimit } from '../serialization/over-byte-limit';
import { BinarySerializer, isBinarySerializer, NamespaceSerializer } from '../serialization/binary-serializer.interface';
import { Serializer } from '../serialization/serializer.interface';
import { UnsupportedValueError } from '../serialization/unsupported-value.error';
import { InvalidOptionsError } from '../errors/invalid-options.error';
import { NamespaceCipher } from '../security/namespace-cipher';
import { bytesOf, frameOf, innerBytes, innerOfBytes, isFrame, FRAME_VERSION, PayloadCodingError, textOf } from './payload-frame';
import { PayloadFormat, ResolvedCompression } from './payload-options';
import { PayloadStage, Rewrap } from './payload-stage';
import { maxStoredBytes } from './payload-limits';
import { SealStage } from './seal-stage';

/** The namespace settings the codec reads. */
export interface CodecOptions {
  readonly name: string;
  readonly serializer: NamespaceSerializer;
  readonly maxValueBytes: number;
  readonly maxKeyLength: number;
  readonly encryption?: ResolvedEncryption;
  readonly valueSchema?: ValueSchemaCheck;
  /** Default `text`: see `payload-options.ts`. */
  readonly payloadFormat?: PayloadFormat;
  readonly compression?: ResolvedCompression;
}

/** What a store writes for a value: the live value or its payload, and its size in bytes (serialized, sealed, or estimated). */
export class PreparedValue {
  constructor(readonly stored: unknown, readonly size: number) {}
}

/**
 * The store that read a payload the codec refuses: it decides how the entry goes. The codec never
 * touches a backend itself.
 */
export interface PayloadOwner {
  /** Deletes the entry read as `payload` (an `OversizedPayload` for one never read in full), only if it still holds it where the store can tell. */
  drop(key: string, payload: unknown): unknown;
  /** Swaps `payload` for `replacement` only if the entry still holds it; resolves whether it did. Absent: entries are never rewritten. */
  readonly replace?: (key: string, payload: string | Buffer, replacement: string | Buffer) => Promise<boolean>;
}

/**
 * A namespace's values on their way to a store and back, in ONE place:
 *
 * - in, for byte stores: `serializer.serialize` → size check (`maxValueBytes`, UTF-8 bytes) → the
 *   stages (the seal, when encryption is on) → size check of the payload (`maxStoredBytes`);
 * - in, for live stores (memory, the L1 of tiers): the value walked once for its size (`measure`);
 * - out: size check of the payload → the stages backwards (open) → size check of the text →
 *   `serializer.deserialize` (the tagged-JSON serializer refuses own `__proto__`/`constructor`/
 *   `prototype` properties) → the `valueSchema` check.
 *
 * With binary payloads (a backend that stores bytes, `payloadFormat: 'binary'`) the seal and the
 * compression work on bytes and the payload is a frame (`payload-frame.ts`): text → UTF-8 →
 * compression (above the threshold) → seal → frame. Payloads of the earlier text format still read.
 * A byte serializer (`BinarySerializer`, e.g. `MsgpackSerializer`) needs binary payloads: its bytes
 * take the text's place in every frame (size check on the bytes), flagged so that a namespace whose
 * serializer writes the other kind refuses the entry (a miss, dropped).
 *
 * A payload that comes back oversized, tampered or unreadable is a miss: the codec counts it, reports
 * it (`tamper` event, or an `unreadable_dropped` warning) and asks the store that read it to drop it
 * (`PayloadOwner.drop`); one sealed with an older key is re-sealed through `PayloadOwner.replace`.
 */
export class ValueCodec {
  /** Encryption is on: stats report `tamperDetected`. */
  readonly sealed: boolean;
  /** Entries dropped as oversized or unreadable, and as tampered. */
  dropped = 0;
  tampered = 0;
  /** Writes binary frames (a sealing that works on bytes, or compression, on a backend that stores bytes). */
  readonly framed: boolean;
  private readonly stages: readonly PayloadStage[];
  private readonly cipher: NamespaceCipher | null;
  private readonly compression?: ResolvedCompression;
  /** The namespace's serializer when it writes bytes: every payload is then a frame. */
  private readonly byteSerializer: BinarySerializer | null;
  /** The largest payload read or written (serialized text, or its sealed form): see `payload-limits.ts`. */
  private readonly maxStored: number;
  private readonly logger = new Logger('CacheNamespace');

  /**
   * `payloads`: the store keeps byte payloads (a byte backend, or the L2 of tiers). Live-value stores
   * only `measure`: their values never leave the process and are not sealed. `bytes`: the backend
   * stores and returns Buffers for this namespace (`CacheBackend.storesBytes`).
   */
  constructor(
    private readonly options: CodecOptions,
    private readonly backendName: string,
    private readonly events: CacheEvents,
    payloads: boolean,
    bytes = false,
  ) {
    const cipher = payloads ? createNamespaceCipher(options, events) : null;
    this.cipher = cipher;
    this.stages = cipher === null ? [] : [new SealStage(cipher)];
    this.sealed = cipher !== null;
    this.maxStored = maxStoredBytes(options);
    const binary = payloads && bytes && options.payloadFormat === 'binary' && (cipher === null || cipher.sealsBytes);
    const needsBinary = `needs binary payloads: ${!bytes ? `a backend that stores bytes ("redis"; "${backendName}" does not)`
      : options.payloadFormat !== 'binary' ? 'payloadFormat "binary"'
        : `a provider that seals bytes ("${cipher?.providerName}" seals text only)`}`;
    if (payloads && options.compression !== undefined && !binary) {
      throw new InvalidOptionsError([{ path: `namespaces.${options.name}.compression`, reason: needsBinary }]);
    }
    this.byteSerializer = isBinarySerializer(options.serializer) ? options.serializer : null;
    if (payloads && this.byteSerializer !== null && !binary) {
      throw new InvalidOptionsError([{ path: `namespaces.${options.name}.serializer`, reason: `"${options.serializer.name}" writes bytes and ${needsBinary}` }]);
    }
    this.compression = binary ? options.compression : undefined;
    this.framed = binary && (cipher !== null || this.compression !== undefined || this.byteSerializer !== null);
    // Which provider seals this namespace's payloads, and how they are stored, once at start-up (names only).
    if (payloads) {
      this.logger.log(logLine('cache.payloads', {
        namespace: options.name, backend: backendName, encryption: cipher?.providerName ?? 'off',
        format: this.framed ? 'binary' : 'text', compression: this.compression?.algorithm ?? 'off', serializer: options.serializer.name,
      }));
    }
  }

  /** A value a store keeps live: checked and measured (`estimateValueSize`), never serialized. */
  measure(value: unknown, path: string): PreparedValue {
    if (value === undefined) throw this.undefinedValue(path);
    let size: number;
    try {
      size = estimateValueSize(value);
    } catch (error) {
      throw this.invalid(error, path);
    }
    if (size > this.options.maxValueBytes) throw new ValueTooLargeError(this.options.name, size, this.options.maxValueBytes, 'maxValueBytes');
    return new PreparedValue(value, size);
  }

  /**
   * The payload of `value` under `key` (and, for a tier's L2 payload, its `envelope` of expiry times,
   * which the seal binds too). Throws `InvalidValueError` or `ValueTooLargeError`; nothing is written.
   */
  encode(value: unknown, path: string, key: string, envelope = ''): PreparedValue {
    if (value === undefined) throw this.undefinedValue(path);
    if (this.byteSerializer !== null) return this.encodeBytes(this.byteSerializer, value, path, contextOf(key, envelope));
    const { serializer, maxValueBytes, name } = this.options as { serializer: Serializer; maxValueBytes: number; name: string };
    let text: unknown;
    try {
      text = serializer.serialize(value);
      if (typeof text !== 'string') throw new UnsupportedValueError(path, `serialized by "${serializer.name}" to a ${typeof text}, not a string`);
    } catch (error) {
      throw this.invalid(error, path);
    }
    const bytes = Buffer.byteLength(text as string);
    if (bytes > maxValueBytes) throw new ValueTooLargeError(name, bytes, maxValueBytes, 'maxValueBytes');
    const context = contextOf(key, envelope);
    if (this.framed) {
      const inner = innerBytes(text as string, bytes, this.compression);
      const frame = frameOf(this.cipher === null ? inner : this.cipher.sealBytes(inner, context));
      if (frame.length > this.maxStored) throw new ValueTooLargeError(name, frame.length, this.maxStored, 'maxValueBytes');
      return new PreparedValue(frame, frame.length);
    }
    if (this.stages.length === 0) return new PreparedValue(text, bytes);
    let payload = text as string;
    for (const stage of this.stages) payload = stage.wrap(payload, context);
    // A stage whose output is larger than `maxStoredBytes` allows would write entries that read as oversized.
    if (payload.length > this.maxStored) throw new ValueTooLargeError(name, payload.length, this.maxStored, 'maxValueBytes');
    return new PreparedValue(payload, payload.length);
  }

  /** `encode` with a byte serializer: its bytes (size-checked) → compression → seal → frame. */
  private encodeBytes(serializer: BinarySerializer, value: unknown, path: string, context: string): PreparedValue {
    const { maxValueBytes, name } = this.options;
    let data: unknown;
    try {
      data = serializer.serializeBytes(value);
      if (!(data instanceof Uint8Array)) throw new UnsupportedValueError(path, `serialized by "${serializer.name}" to a ${typeof data}, not a Uint8Array`);
    } catch (error) {
      throw this.invalid(error, path);
    }
    const bytes = data as Uint8Array;
    if (bytes.length > maxValueBytes) throw new ValueTooLargeError(name, bytes.length, maxValueBytes, 'maxValueBytes');
    const inner = innerOfBytes(bytes, this.compression);
    const frame = frameOf(this.cipher === null ? inner : this.cipher.sealBytes(inner, context));
    if (frame.length > this.maxStored) throw new ValueTooLargeError(name, frame.length, this.maxStored, 'maxValueBytes');
    return new PreparedValue(frame, frame.length);
  }

  /**
   * The value of a payload read under `key` (`envelope`: the tier's expiry times it was sealed with),
   * or undefined when it cannot be one: an entry over the size limit (answered by a bounded backend
   * as an `OversizedPayload`, or longer than `maxStoredBytes`), one that does not authenticate, that
   * the serializer cannot read (corrupt, written by something else, or with own `__proto__`/
   * `constructor`/`prototype` properties), or whose value fails the `valueSchema`. `owner` drops it.
   * A readable payload sealed with the current key answers synchronously (no promise of its own on
   * the read path); one that has to be dropped or swapped answers a promise: callers await either.
   */
  decode(key: string, stored: unknown, envelope: string, owner: PayloadOwner): unknown {
    if (Buffer.isBuffer(stored)) {
      if (isFrame(stored)) return this.decodeFrame(key, stored, envelope, owner);
      // A byte serializer writes frames only: anything else was written by another serializer or something else.
      if (this.byteSerializer !== null) return this.unreadable(key, stored, 'serializer-mismatch', owner);
      // A payload of the earlier text format, read by a backend that returns bytes: read as text,
      // dropped or swapped as the bytes it was (its text may not be their exact UTF-8).
      owner = asBytes(owner, stored);
      stored = stored.toString('utf8');
    }
    if (typeof stored !== 'string') return this.unreadable(key, stored, stored instanceof OversizedPayload ? 'oversized' : 'not-a-string', owner);
    if (this.byteSerializer !== null) return this.unreadable(key, stored, 'serializer-mismatch', owner);
    if (overByteLimit(stored, this.maxStored)) return this.unreadable(key, stored, 'oversized', owner);
    if (this.stages.length === 0) return this.value(key, stored, stored, owner);
    const unwrapped = this.unwrap(key, stored, envelope, owner);
    if (typeof unwrapped === 'string') return this.value(key, stored, unwrapped, owner);
    const payload = stored;
    return unwrapped.then((opened) => (opened === undefined ? undefined : this.value(key, payload, opened, owner)));
  }

  /**
   * A binary payload: size check, version, the seal opened (a tamper when it does not authenticate,
   * whatever the namespace's settings: an unsealed frame planted in a sealed namespace is one),
   * decompression bounded by `maxValueBytes`, then the serializer and the schema. One sealed with an
   * older key is re-sealed in the binary format when `reencryptOnRead` is on.
   */
  private decodeFrame(key: string, frame: Buffer, envelope: string, owner: PayloadOwner): unknown {
    if (frame.length > this.maxStored) return this.unreadable(key, frame, 'oversized', owner);
    const cipher = this.cipher;
    if (frame[1] !== FRAME_VERSION) return cipher === null ? this.unreadable(key, frame, 'unknown-version', owner) : this.tamper(key, frame, 'unknown-version', owner);
    const context = contextOf(key, envelope);
    let inner = frame.subarray(2);
    let stale: { readonly keyId?: string } | undefined;
    let staleInner: Buffer | undefined;
    if (cipher !== null) {
      try {
        const opened = cipher.openBytes(inner, context);
        inner = opened.plaintext;
        if (opened.stale && cipher.reencryptOnRead && owner.replace !== undefined) {
          stale = opened;
          // The provider may reuse its plaintext buffer on the next call: keep a copy to seal again (and to read).
          staleInner = Buffer.from(inner);
          inner = staleInner;
        }
      } catch (error) {
        return this.tamper(key, frame, error instanceof DecryptionFailedError ? error.reason : 'authentication-failed', owner);
      }
    }
    let data: string | Buffer;
    try {
      data = this.byteSerializer === null ? textOf(inner, this.options.maxValueBytes) : bytesOf(inner, this.options.maxValueBytes);
    } catch (error) {
      return this.unreadable(key, frame, error instanceof PayloadCodingError ? error.reason : (error as Error).name, owner);
    }
    // The common case (authentic, current key) answers without a promise of its own.
    if (stale !== undefined) return this.resealed(key, frame, data, staleInner!, context, stale, owner);
    return this.value(key, frame, data, owner);
  }

  /** A frame sealed with an older key: sealed again and swapped if still unchanged, reported once replaced (`keyRotated`). */
  private async resealed(key: string, frame: Buffer, data: string | Buffer, inner: Buffer, context: string, opened: { readonly keyId?: string }, owner: PayloadOwner): Promise<unknown> {
    const cipher = this.cipher!;
    let replaced = false;
    try {
      replaced = await owner.replace!(key, frame, frameOf(cipher.sealBytes(inner, context)));
    } catch {
      // The read itself succeeded; the next read tries again.
    }
    if (replaced) cipher.rotated(key, opened);
    return this.value(key, frame, data, owner);
  }

  /**
   * The serializer's data (text, or a byte serializer's bytes) checked (size), deserialized and
   * checked against the schema; undefined (dropped) when it cannot be a value.
   */
  private value(key: string, stored: unknown, data: string | Buffer, owner: PayloadOwner): unknown {
    let problem: string;
    const text = typeof data === 'string';
    if (text ? overByteLimit(data, this.options.maxValueBytes) : data.length > this.options.maxValueBytes) {
      problem = 'oversized';
    } else {
      try {
        const value = text ? (this.options.serializer as Serializer).deserialize(data) : this.byteSerializer!.deserializeBytes(data);
        if (this.options.valueSchema?.(value) === undefined) return value;
        problem = 'valueSchema';
      } catch (error) {
        problem = (error as Error).name;
      }
    }
    return this.unreadable(key, stored, problem, owner);
  }

  /**
   * The stages backwards, outermost first. The common case (authentic, current key) answers the text
   * synchronously, sparing the read a promise. A tampered payload answers undefined once it is dropped.
   */
  private unwrap(key: string, payload: string, envelope: string, owner: PayloadOwner): string | Promise<string | undefined> {
    const context = contextOf(key, envelope);
    const outermost = this.stages.length - 1;
    let text = payload;
    let rewrap: Rewrap | undefined;
    for (let i = outermost; i >= 0; i--) {
      let out: string | Rewrap;
      try {
        out = this.stages[i].unwrap(text, context, key);
      } catch (error) {
        if (error instanceof DecryptionFailedError) return this.tamper(key, payload, error.reason, owner);
        return this.unreadable(key, payload, (error as Error).name, owner);
      }
      if (typeof out === 'string') {
        text = out;
      } else {
        text = out.text;
        // Only the whole payload can be swapped: a rewrite offered by the outermost stage.
        if (i === outermost) rewrap = out;
      }
    }
    if (rewrap !== undefined && owner.replace !== undefined) return this.rewrite(key, payload, rewrap, owner);
    return text;
  }

  /** A payload that does not authenticate is dropped (only if still unchanged), counted and reported as a `tamper` event (logged, throttled, by the module's observability). */
  private async tamper(key: string, payload: string | Buffer, reason: string, owner: PayloadOwner): Promise<undefined> {
    try {
      await owner.drop(key, payload);
    } catch {
      // Still a miss; the entry will expire or be overwritten.
    }
    this.tampered++;
    this.events.emit('tamper', { namespace: this.options.name, key, reason });
    return undefined;
  }

  /** Sealed with an older key: swapped for the newest sealing if still unchanged, reported once replaced (`keyRotated`). */
  private async rewrite(key: string, payload: string, rewrap: Rewrap, owner: PayloadOwner): Promise<string> {
    let replaced = false;
    try {
      replaced = await owner.replace!(key, payload, rewrap.rewrap());
    } catch {
      // The read itself succeeded; the next read tries again.
    }
    // Not replaced: a newer write (sealed with the newest key) or a delete got there first.
    if (replaced) rewrap.replaced();
    return rewrap.text;
  }

  private async unreadable(key: string, stored: unknown, reason: string, owner: PayloadOwner): Promise<undefined> {
    this.dropped++;
    // The key stays out of the log: it may belong to a protected namespace.
    this.logger.warn(logLine('cache.unreadable_dropped', { namespace: this.options.name, backend: this.backendName, serializer: this.options.serializer.name, reason }));
    try {
      await owner.drop(key, stored);
    } catch {
      // Already counted as unreadable; the entry will expire or be overwritten.
    }
    return undefined;
  }

  private undefinedValue(path: string): InvalidValueError {
    return new InvalidValueError(this.options.name, path, 'undefined (store null to cache an absence)');
  }

  private invalid(error: unknown, path: string): InvalidValueError {
    if (error instanceof UnsupportedValueError) return new InvalidValueError(this.options.name, error.path.replace(/^value/, path), error.reason);
    return new InvalidValueError(this.options.name, path, `not serializable by "${this.options.serializer.name}" (${(error as Error).message})`);
  }
}

/** The owner of a payload read as bytes and decoded as text: drops and swaps name the bytes. */
function asBytes(owner: PayloadOwner, bytes: Buffer): PayloadOwner {
  const replace = owner.replace;
  return {
    drop: (key) => owner.drop(key, bytes),
    ...(replace !== undefined && { replace: (key: string, _payload: string | Buffer, replacement: string | Buffer) => replace(key, bytes, replacement) }),
  };
}

/** What a payload is bound to: the key, and for a tier's L2 payload also its envelope (U+001E cannot occur in a key). */
function contextOf(key: string, envelope: string): string {
  return envelope === '' ? key : `${key}\u001e${envelope}`;
}
