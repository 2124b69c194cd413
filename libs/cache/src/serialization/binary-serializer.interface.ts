import { Serializer } from './serializer.interface';

/**
 * The byte form of `Serializer`: turns values into bytes (MessagePack, CBOR…) and back. A namespace
 * with one stores binary payloads (`payloadFormat: 'binary'` on a backend that stores bytes, such as
 * Redis), and its frames record that they hold a byte serializer's output, so an entry written with
 * a text serializer reads as a miss there (and the other way round) instead of being misread.
 * A namespace that cannot store binary payloads refuses a byte serializer at start-up.
 */
export interface BinarySerializer {
  /** Shown in errors and logs. */
  readonly name: string;
  /** Throws `UnsupportedValueError` (or any error) for a value it cannot represent. The codec copies the bytes before the next call. */
  serializeBytes(value: unknown): Uint8Array;
  /**
   * Throws for bytes it cannot read (corrupt, truncated, trailing bytes, written by something else);
   * the cache then treats the entry as a miss and deletes it. `payload` may be reused after the call:
   * the value must not keep a view of it.
   */
  deserializeBytes(payload: Buffer): unknown;
}

/** What `namespaces.<name>.serializer` takes. */
export type NamespaceSerializer = Serializer | BinarySerializer;

/** A serializer with `serializeBytes` is a byte serializer (its text methods, if any, are not used). */
export function isBinarySerializer(serializer: NamespaceSerializer): serializer is BinarySerializer {
  return typeof (serializer as Partial<BinarySerializer>).serializeBytes === 'function';
}
