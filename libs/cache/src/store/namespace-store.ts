import { BackendEntry, BackendStats, MaybePromise } from '../backends/cache-backend.interface';
import { PreparedValue, ValueCodec } from '../codec/value-codec';

/**
 * What a namespace reads and writes through, the codec included: one backend (`LiveStore` for live
 * values, `ByteStore` for payloads) or two tiers (`TwoTierStore`). Keys arrive checked, canonical and
 * scoped (the namespace's `StoredKey`s); reads answer values (decoded, or `undefined`), writes take
 * what `prepare` made of a value, so that every entry is checked before the first write.
 */
export abstract class NamespaceStore {
  /** The backend's name (errors, logs, stats). */
  abstract readonly name: string;
  /** The backend indexes tags (`invalidateTag`). */
  abstract readonly tags: boolean;

  constructor(readonly codec: ValueCodec) {}

  /** `value` checked, measured and (for payloads) encoded for `key`; nothing is written. Throws `InvalidValueError`/`ValueTooLargeError`. */
  abstract prepare(value: unknown, path: string, key: string): PreparedValue;
  abstract get(key: string): MaybePromise<unknown>;
  abstract mget(keys: readonly string[]): MaybePromise<unknown[]>;
  /** `value` and `sizeBytes` as `prepare` made them. */
  abstract set(key: string, value: unknown, ttlMs: number, sizeBytes: number, tags?: readonly string[]): MaybePromise<void>;
  abstract mset(entries: readonly BackendEntry[]): MaybePromise<void>;
  abstract has(key: string): MaybePromise<boolean>;
  abstract delete(key: string): MaybePromise<boolean>;
  abstract clear(): MaybePromise<number>;
  /** Only called when `tags` is true. */
  abstract invalidateTag(tag: string): MaybePromise<number>;
  abstract stats(): BackendStats;
  abstract strategyState(): Record<string, number | string> | undefined;
}
