import { BackendEntry, BackendStats, CacheBackend, MaybePromise } from '../backends/cache-backend.interface';
import { PreparedValue, ValueCodec } from '../codec/value-codec';
import { NamespaceStore } from './namespace-store';

/**
 * One backend that keeps live values (memory, or a custom one with `storesLiveValues`): values are
 * measured on the way in (`ValueCodec.measure`), never serialized or sealed, and handed back as they
 * were stored. Every call goes straight to the backend, so a synchronous backend stays synchronous.
 */
export class LiveStore extends NamespaceStore {
  readonly name: string;
  readonly tags: boolean;
  /** Every method of the backend answers a plain value: hits need no await. */
  readonly synchronous: boolean;

  constructor(readonly backend: CacheBackend, codec: ValueCodec) {
    super(codec);
    this.name = backend.name;
    this.tags = typeof backend.invalidateTag === 'function';
    this.synchronous = backend.synchronous === true;
  }

  prepare(value: unknown, path: string): PreparedValue {
    return this.codec.measure(value, path);
  }

  get(key: string): MaybePromise<unknown> {
    return this.backend.get(key);
  }

  mget(keys: readonly string[]): MaybePromise<unknown[]> {
    return this.backend.mget(keys);
  }

  set(key: string, value: unknown, ttlMs: number, sizeBytes: number, tags?: readonly string[]): MaybePromise<void> {
    return this.backend.set(key, value, ttlMs, sizeBytes, tags);
  }

  mset(entries: readonly BackendEntry[]): MaybePromise<void> {
    return this.backend.mset(entries);
  }

  has(key: string): MaybePromise<boolean> {
    return this.backend.has(key);
  }

  delete(key: string): MaybePromise<boolean> {
    return this.backend.delete(key);
  }

  clear(): MaybePromise<number> {
    return this.backend.clear();
  }

  invalidateTag(tag: string): MaybePromise<number> {
    return this.backend.invalidateTag!(tag);
  }

  stats(): BackendStats {
    return this.backend.stats?.() ?? {};
  }

  strategyState(): Record<string, number | string> | undefined {
    return this.backend.strategyState?.();
  }
}
