/**
 * Turns values into the text a remote backend stores and back. Serialization happens in the
 * namespace layer above the backends, so every backend that stores bytes gets the same format.
 */
export interface Serializer {
  /** Shown in errors and logs. */
  readonly name: string;
  /** Throws `UnsupportedValueError` (or any error) for a value it cannot represent. */
  serialize(value: unknown): string;
  /** Throws for a payload it cannot read; the cache then treats the entry as a miss and deletes it. */
  deserialize(payload: string): unknown;
}
