import { Inject, Injectable, Logger, OnApplicationShutdown, Optional, Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { CacheBackendFactory } from './backends/cache-backend.interface';
import { MemoryBackendFactory } from './backends/memory/memory-backend.factory';
import { RedisBackendFactory } from './backends/redis/redis-backend.factory';
import { CACHE_MODULE_OPTIONS } from './cache.module-definition';
import { UnknownNamespaceError } from './errors/unknown-namespace.error';
import { CacheEvents } from './events/cache-events';
import { CacheNamespace } from './namespace/cache-namespace';
import { CacheModuleOptions } from './options/cache-module-options.interface';
import { ResolvedCacheOptions, resolveCacheOptions } from './options/resolve-cache-options';
import { AuditSink } from './audit/audit-sink';
import { AuditTrail } from './audit/audit-trail';
import { LoggerAuditSink } from './audit/logger-audit-sink';
import { subscribeAudit } from './audit/subscribe-audit';
import { CacheAccessControl } from './security/rbac/cache-access-control';
import { NamespaceAccess } from './security/rbac/namespace-access';
import { DefaultPrincipalResolver, PrincipalResolver } from './security/rbac/principal-resolver';

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
  /** Who may do what, and who is calling (RBAC); the audit trail it and the events write to. */
  readonly access: CacheAccessControl;
  readonly audit: AuditTrail;

  constructor(
    @Inject(CACHE_MODULE_OPTIONS) options: CacheModuleOptions,
    private readonly moduleRef: ModuleRef,
    @Optional() @Inject(AuditSink) sink?: AuditSink,
    @Optional() @Inject(PrincipalResolver) resolver?: PrincipalResolver,
  ) {
    this.resolved = resolveCacheOptions(options);
    this.defaultNamespace = this.resolved.defaultNamespace;
    const { rbac, audit } = this.resolved;
    this.audit = new AuditTrail(sink ?? options.audit?.sink ?? new LoggerAuditSink(), audit.keyHashSecret, audit.enabled);
    const scoped = [...this.resolved.namespaces.values()].some((ns) => ns.scope !== 'none');
    this.access = new CacheAccessControl(rbac, resolver ?? options.rbac?.principalResolver ?? new DefaultPrincipalResolver(), this.audit, this.events, scoped);
    if (audit.enabled) subscribeAudit(this.events, this.audit, () => this.access.current().id);
    if (audit.enabled && audit.generatedSecret) {
      new Logger('CacheAudit').warn('audit.keyHashSecret is not set: key hashes in audit records compare only within this process');
    }
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
        if (ns.valueSchema !== undefined && backend.storesLiveValues) {
          new Logger('CacheRegistry').log(`namespaces.${ns.name}.valueSchema is not applied: the "${backend.name}" backend keeps this process's own live values`);
        }
        const access = new NamespaceAccess(ns.name, ns.maxKeyLength, ns.keyCharset, ns.scope, this.access);
        this.namespaces.set(ns.name, new CacheNamespace(ns, backend, this.events, access));
      }
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

  async onApplicationShutdown(): Promise<void> {
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
