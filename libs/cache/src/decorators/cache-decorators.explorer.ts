import { Injectable, OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { CacheRegistry } from '../cache-registry';
import { CacheDecoratorError } from './cache-key';
import { CACHE_REGISTRY_REF, CACHED_METHOD, CachedMethod } from './cached-method';

/**
 * Finds every Nest-managed instance whose class has methods wrapped by the cache decorators, hands it
 * this app's registry, and checks at start-up that each decorator's namespace exists (and that
 * synchronous methods use a synchronous namespace), naming the method when not. Request-scoped and
 * transient providers are not reached: their cached methods run uncached.
 */
@Injectable()
export class CacheDecoratorsExplorer implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly registry: CacheRegistry,
  ) {}

  onModuleInit(): void {
    const wrappers = [...this.discovery.getProviders(), ...this.discovery.getControllers()];
    for (const wrapper of wrappers) {
      const instance = wrapper.instance as Record<symbol, unknown> | null | undefined;
      if (!instance || typeof instance !== 'object' || !wrapper.isDependencyTreeStatic() || wrapper.isAlias) continue;
      const prototype = Object.getPrototypeOf(instance);
      if (!prototype) continue;
      let cached = false;
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const info = (prototype[name] as { [CACHED_METHOD]?: CachedMethod })?.[CACHED_METHOD];
        if (info === undefined) continue;
        this.check(info);
        cached = true;
      }
      if (cached && instance[CACHE_REGISTRY_REF] !== this.registry) {
        Object.defineProperty(instance, CACHE_REGISTRY_REF, { value: this.registry, configurable: true });
      }
    }
  }

  private check(info: CachedMethod): void {
    for (const op of info.operations) {
      const ns = this.registry.namespace(op.namespace ?? this.registry.defaultNamespace);
      if (!info.asynchronous && !ns.synchronous) {
        throw new CacheDecoratorError(info, op.kind, `the method is synchronous but namespace "${ns.name}" is not in memory; declare the method async`);
      }
    }
  }
}
