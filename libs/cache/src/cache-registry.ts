import { Inject, Injectable, Logger, OnApplicationShutdown, Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { CacheBackendFactory } from './backends/cache-backend.interface';
import { MemoryBackendFactory } from './backends/memory/memory-backend.factory';
import { RedisBackendFactory } from './backends/redis/redis-backend.factory';
import { TierRuntime } from './backends/tiered/tier-runtime';
import { CACHE_MODULE_OPTIONS } from './cache.module-definition';
import { UnknownNamespaceError } from './errors/unknown-namespace.error';
import { CacheEvents } from './events/cache-events';
import { CacheNamespace } from './namespace/cache-namespace';
import { CacheModuleOptions } from './options/cache-module-options.interface';
import { DEFAULT_KEY_PREFIX, ResolvedCacheOptions, resolveCacheOptions } from './options/resolve-cache-options';
import { resolveBreakerOptions, resolveBusOptions } from './options/resolve-resilience-options';

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
  private readonly logger = new Logger('CacheRegistry');
  /** Breakers and the invalidation bus of namespaces with an `l1`. */
  private readonly tiers: TierRuntime;

  constructor(
    @Inject(CACHE_MODULE_OPTIONS) options: CacheModuleOptions,
    private readonly moduleRef: ModuleRef,
  ) {
    this.resolved = resolveCacheOptions(options);
    this.defaultNamespace = this.resolved.defaultNamespace;
    this.tiers = new TierRuntime({
      bus: resolveBusOptions(this.resolved.raw, this.resolved.raw.keyPrefix ?? DEFAULT_KEY_PREFIX),
      breaker: resolveBreakerOptions(this.resolved.raw),
      events: this.events,
    });
  }

  /** Called by the module's async provider, so that the app starts only once every backend exists. */
  async init(): Promise<this> {
    try {
      for (const ns of this.resolved.namespaces.values()) {
        const factory = await this.factory(ns.backend);
        const context = {
          namespace: ns.name,
          keyPrefix: ns.keyPrefix,
          maxEntries: ns.maxEntries,
          maxBytes: ns.maxBytes,
          eviction: ns.eviction,
          onRemove: (key: string, reason: string) => this.events.emit(reason === 'capacity' ? 'evicted' : 'expired', { namespace: ns.name, key }),
        };
        const stored = factory.create(context);
        const backend = ns.resilience ? this.tiers.wrap(context, ns.resilience, stored, ns.backend, factory) : stored;
        this.namespaces.set(ns.name, new CacheNamespace(ns, backend, this.events));
      }
      this.tiers.start();
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

  /** Closes every factory; one that fails to close is logged and does not keep the others open. */
  async onApplicationShutdown(): Promise<void> {
    await this.tiers.close();
    const factories = [...this.factories.entries()];
    this.factories.clear();
    const results = await Promise.allSettled(factories.map(async ([, f]) => f.close?.()));
    results.forEach((result, i) => {
      if (result.status === 'rejected') {
        this.logger.error(`Closing backend "${factories[i][0]}" failed: ${(result.reason as Error)?.message ?? result.reason}`);
      }
    });
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
