import { Inject, Injectable, OnApplicationShutdown, Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { CacheBackendFactory } from './backends/cache-backend.interface';
import { MemoryBackendFactory } from './backends/memory/memory-backend.factory';
import { RedisBackendFactory } from './backends/redis/redis-backend.factory';
import { CACHE_MODULE_OPTIONS } from './cache.module-definition';
import { UnknownNamespaceError } from './errors/unknown-namespace.error';
import { CacheEvents } from './events/cache-events';
import { CacheNamespace } from './namespace/cache-namespace';
import { CacheObservability } from './observability/cache-observability';
import { CacheModuleOptions } from './options/cache-module-options.interface';
import { ResolvedCacheOptions, resolveCacheOptions } from './options/resolve-cache-options';

/**
 * Owns the namespaces and the backend factories behind them: validates the options, builds one
 * backend per namespace at start-up, and closes shared connections at shutdown. Internal; apps use
 * `CacheService` and `@InjectCache`.
 */
@Injectable()
export class CacheRegistry implements OnApplicationShutdown {
  readonly defaultNamespace: string;
  readonly events = new CacheEvents();
  private readonly namespaces = new Map<string, CacheNamespace<any>>();
  private readonly factories = new Map<string, CacheBackendFactory>();
  private readonly resolved: ResolvedCacheOptions;
  private readonly observability: CacheObservability;

  constructor(
    @Inject(CACHE_MODULE_OPTIONS) options: CacheModuleOptions,
    private readonly moduleRef: ModuleRef,
  ) {
    this.resolved = resolveCacheOptions(options);
    this.defaultNamespace = this.resolved.defaultNamespace;
    this.observability = new CacheObservability(this.resolved.observability, this.events);
  }

  /** Called by the module's async provider, so that the app starts only once every backend exists. */
  async init(): Promise<this> {
    try {
      for (const ns of this.resolved.namespaces.values()) {
        const factory = await this.factory(ns.backend);
        const backend = factory.create({
          namespace: ns.name,
          keyPrefix: ns.keyPrefix,
          maxEntries: ns.maxEntries,
          maxBytes: ns.maxBytes,
          eviction: ns.eviction,
          onRemove: (key, reason) => this.events.emit(reason === 'capacity' ? 'evicted' : 'expired', { namespace: ns.name, key }),
        });
        this.namespaces.set(ns.name, new CacheNamespace(ns, backend, this.events, this.observability.observer(ns.name, backend)));
      }
      this.observability.start({ namespaces: () => this.namespaces.values() });
    } catch (error) {
      // A failed start must not leave a connected Redis client behind, reconnecting forever.
      await this.onApplicationShutdown();
      throw error;
    }
    return this;
  }

  namespace<V = unknown>(name: string): CacheNamespace<V> {
    const ns = this.namespaces.get(name);
    if (ns === undefined) throw new UnknownNamespaceError(name, [...this.namespaces.keys()]);
    return ns as CacheNamespace<V>;
  }

  names(): string[] {
    return [...this.namespaces.keys()];
  }

  /** The backend factories in use, by backend name (for health checks). */
  backendFactories(): ReadonlyMap<string, CacheBackendFactory> {
    return this.factories;
  }

  async onApplicationShutdown(): Promise<void> {
    this.observability.close();
    await Promise.all([...this.factories.values()].map((f) => f.close?.()));
    this.factories.clear();
  }

  private async factory(name: string): Promise<CacheBackendFactory> {
    let factory = this.factories.get(name);
    if (factory !== undefined) return factory;
    if (name === 'memory') {
      factory = new MemoryBackendFactory();
    } else if (name === 'redis') {
      const redis = new RedisBackendFactory(this.resolved.raw.redis!);
      await redis.connect();
      factory = redis;
    } else {
      const configured = this.resolved.raw.backends![name];
      factory = typeof configured === 'function'
        ? await this.moduleRef.create(configured as Type<CacheBackendFactory>)
        : configured;
    }
    this.factories.set(name, factory);
    return factory;
  }
}
