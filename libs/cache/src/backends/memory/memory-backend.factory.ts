import { BackendContext, BackendHealth, CacheBackend, CacheBackendFactory } from '../cache-backend.interface';
import { MemoryBackend } from './memory-backend';

/** The built-in `memory` backend: one bounded store per namespace. */
export class MemoryBackendFactory implements CacheBackendFactory {
  /** The stores made, by namespace, for `health()`. */
  private readonly stores = new Map<string, MemoryBackend>();

  create(context: BackendContext): CacheBackend {
    const store = new MemoryBackend({
      maxEntries: context.maxEntries,
      maxBytes: context.maxBytes,
      strategy: context.eviction(),
      namespace: context.namespace,
      onRemove: context.onRemove,
    });
    this.stores.set(context.namespace, store);
    return store;
  }

  /** Always up: the entries and estimated bytes of each namespace, and the process's heap and RSS. */
  async health(): Promise<BackendHealth> {
    const namespaces: Record<string, { entries?: number; bytes?: number }> = {};
    for (const [name, store] of this.stores) {
      const { entries, bytes } = store.stats();
      namespaces[name] = { entries, bytes };
    }
    const usage = process.memoryUsage();
    return { status: 'up', namespaces, heapUsedBytes: usage.heapUsed, rssBytes: usage.rss };
  }
}
