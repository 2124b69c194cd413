import { EvictionStrategyFactory } from '../eviction/eviction-strategy.interface';

export type MaybePromise<T> = T | Promise<T>;

/**
 * What a byte backend's `get`/`mget` answer, instead of the payload, for an entry larger than
 * `BackendContext.maxPayloadBytes`: its size (or a lower bound, where the backend stopped reading),
 * never its bytes. The namespace reads it as a miss and drops the entry with
 * `deleteIfUnchanged(key, thisMarker)`, which removes the entry only if it is still over the limit.
 */
export class OversizedPayload {
  constructor(readonly bytes: number) {}
}

/** One entry of a bulk write. `ttlMs` 0 means no expiry. */
export interface BackendEntry {
  readonly key: string;
  readonly value: unknown;
  readonly ttlMs: number;
  readonly sizeBytes: number;
  readonly tags?: readonly string[];
}

/** Figures a backend can report about itself; unknown ones are left out. */
export interface BackendStats {
  entries?: number;
  bytes?: number;
  evictions?: number;
  expirations?: number;
  /** Tiered backends only (see `NamespaceStats`). */
  staleServed?: number;
  fallbacks?: number;
  l1OnlyWrites?: number;
  tiers?: { l1?: { hits: number; misses: number; sets: number; errors: number }; l2?: { hits: number; misses: number; sets: number; errors: number } };
  bus?: {
    published: number; received: number; forged: number; replayed: number; outOfWindow: number; missed: number;
    ownIgnored: number; resyncs: number; connected: boolean;
  };
  breaker?: { state: 'open' | 'half-open' | 'closed'; opened: number; halfOpened: number; closed: number };
}

/**
 * Storage for ONE namespace. Keys arrive already validated and without any namespace prefix: the
 * backend keeps namespaces apart (the memory backend by being one instance per namespace, the Redis
 * backend by its key prefix). `undefined` from `get` means a miss; values are never `undefined`.
 *
 * A backend with `storesLiveValues: false` receives and returns the serialized string made by the
 * namespace's `Serializer`; with `true` it receives the caller's live value and must return it as is.
 * A backend with `synchronous: true` promises that every method returns a plain value, never a
 * promise, which lets the cache answer a hit without an extra turn of the event loop.
 *
 * Errors: throw `BackendUnavailableError` when the store cannot be reached; anything else thrown is
 * wrapped in one by the namespace.
 */
export interface CacheBackend {
  /** `memory`, `redis`, or your own; shown in errors, logs and stats. */
  readonly name: string;
  readonly storesLiveValues: boolean;
  readonly synchronous?: boolean;
  /** Takes Buffer payloads and returns Buffers from its reads (asked for with `BackendContext.payloadFormat: 'binary'`). */
  readonly storesBytes?: boolean;

  get(key: string): MaybePromise<unknown>;
  /**
   * `ttlMs` 0 means no expiry; `sizeBytes` is the serialized length or the estimated heap size.
   * `tags` (only passed when the backend has `invalidateTag`) replace the entry's tags.
   */
  set(key: string, value: unknown, ttlMs: number, sizeBytes: number, tags?: readonly string[]): MaybePromise<void>;
  /** Resolves `true` when an entry was removed. */
  delete(key: string): MaybePromise<boolean>;
  has(key: string): MaybePromise<boolean>;
  /** Results in the order of `keys`, `undefined` for misses. */
  mget(keys: readonly string[]): MaybePromise<unknown[]>;
  /** All or nothing where the store allows it. */
  mset(entries: readonly BackendEntry[]): MaybePromise<void>;
  /** Removes every entry of this namespace; resolves the number removed where known. */
  clear(): MaybePromise<number>;
  /** Removes every entry written with `tag`; resolves how many. Backends without it do not support tags. */
  invalidateTag?(tag: string): MaybePromise<number>;
  /**
   * Replaces the value of `key` with `replacement` only if it still holds `expected`, keeping its
   * TTL and tags; resolves whether it did. Used by re-encrypt-on-read; without it, entries sealed
   * with an old key stay as they are until rewritten or expired.
   */
  replaceIfUnchanged?(key: string, expected: unknown, replacement: unknown): MaybePromise<boolean>;
  /**
   * Deletes `key` only if it still holds `expected`; resolves whether it did. Used to drop an entry
   * found tampered or unreadable without removing a newer write that landed after the read; without
   * it, such an entry is deleted by key. `expected` is an `OversizedPayload` when this backend's read
   * answered one: delete only if the entry is still over the limit.
   */
  deleteIfUnchanged?(key: string, expected: unknown): MaybePromise<boolean>;
  stats?(): BackendStats;
  /** Learned or internal state of the eviction strategy (backends that have one), shown as `NamespaceStats.strategy`. */
  strategyState?(): Record<string, number | string>;
}

/** Why the memory backend dropped an entry by itself. */
export type RemovalReason = 'capacity' | 'expired';

/** What a backend factory knows about the namespace it builds a backend for. */
export interface BackendContext {
  readonly namespace: string;
  /** Full key prefix for shared stores (global `keyPrefix` + the namespace's `keyPrefix`). */
  readonly keyPrefix: string;
  readonly maxEntries: number;
  /** 0 = no byte bound. */
  readonly maxBytes: number;
  readonly eviction: EvictionStrategyFactory;
  /**
   * The largest payload the namespace accepts from `get`/`mget`, in bytes as stored (serialized,
   * sealed when encryption is on, with a tier's envelope): a byte backend should answer a larger
   * entry as an `OversizedPayload` without transferring it. The namespace checks again whatever a
   * backend returns. Absent or 0: no bound at the backend.
   */
  readonly maxPayloadBytes?: number;
  /** Called when the backend drops an entry by itself (capacity or expiry). */
  readonly onRemove?: (key: string, reason: RemovalReason) => void;
  /**
   * `'binary'`: the namespace writes Buffer payloads where the backend can store them; a backend that
   * can sets `storesBytes` and returns Buffers from its reads. Absent or `'text'`: string payloads.
   */
  readonly payloadFormat?: 'binary' | 'text';
}

/** What a backend factory reports to health checks: `status`, plus figures such as latency or memory. */
export interface BackendHealth {
  status: 'up' | 'down';
  [detail: string]: unknown;
}

/**
 * Creates a backend per namespace. Register your own under `CacheModule` options `backends`
 * (an instance, e.g. injected in `forRootAsync`, or a class that Nest instantiates with DI) and
 * select it by name in a namespace's `backend`. The built-in `memory` and `redis` backends are
 * factories registered the same way. Lifecycle: at start-up, for a factory some namespace uses,
 * `connect()` once, then `create()` per namespace; `health()` on each health check; `close()` at
 * shutdown (also after a failed start).
 */
export interface CacheBackendFactory {
  create(context: BackendContext): CacheBackend;
  /**
   * Opens shared resources (connections) at start-up, before the first `create()`; the app starts
   * only once it resolves. A rejection fails the start (the built-in `redis` instead logs an
   * unreachable server and keeps retrying in the background).
   */
  connect?(): Promise<void> | void;
  /** Releases shared resources (connections) at application shutdown. */
  close?(): Promise<void> | void;
  /** Checks the store (e.g. a PING) for `CacheHealthIndicator`; never throws, reports `down` instead. */
  health?(): Promise<BackendHealth>;
}
