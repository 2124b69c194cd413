import { BackendContext, CacheBackend, CacheBackendFactory } from '../cache-backend.interface';
import { MemoryBackend } from './memory-backend';

/** The built-in `memory` backend: one bounded store per namespace. */
export class MemoryBackendFactory implements CacheBackendFactory {
  create(context: BackendContext): CacheBackend {
    return new MemoryBackend({
      maxEntries: context.maxEntries,
      maxBytes: context.maxBytes,
      strategy: context.eviction(),
      namespace: context.namespace,
      onRemove: context.onRemove,
    });
  }
}
