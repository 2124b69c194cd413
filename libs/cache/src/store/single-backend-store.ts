import { BackendEntry, BackendStats, CacheBackend, MaybePromise } from '../backends/cache-backend.interface';
import { ValueCodec } from '../codec/value-codec';
import { NamespaceStore } from './namespace-store';

/**
 * A store over one backend: writes, deletes, tags and figures go straight to it (what `prepare` made
 * is what the backend keeps). `LiveStore` and `ByteStore` differ only in how values come and go.
 */
export abstract class SingleBackendStore extends NamespaceStore {
  readonly name: string;
  readonly tags: boolean;

  constructor(readonly backend: CacheBackend, codec: ValueCodec) {
    super(codec);
    this.name = backend.name;
    this.tags = typeof backend.invalidateTag === 'function';
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
