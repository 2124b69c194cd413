import { Inject, Injectable, Logger, OnApplicationShutdown, Optional, Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { CacheBackendFactory } from './backends/cache-backend.interface';
import { TierRuntime } from './tiers/tier-runtime';
import { CACHE_MODULE_OPTIONS } from './cache.module-definition';
import { UnknownNamespaceError } from './errors/unknown-namespace.error';
import { CacheEvents } from './events/cache-events';
import { CacheNamespace } from './namespace/cache-namespace';
import { maxPayloadBytes } from './codec/payload-limits';
import { ValueCodec } from './codec/value-codec';
import { NamespaceKeys } from './keys/namespace-keys';
import { CacheObservability } from './observability/cache-observability';
import { CacheModuleOptions } from './options/cache-module-options.interface';
import { DEFAULT_KEY_PREFIX, ResolvedCacheOptions, resolveCacheOptions } from './options/resolve-cache-options';
import { resolveBreakerOptions, resolveBusOptions } from './tiers/resilience-options';
import { ResolvedNamespaceOptions } from './options/resolved-namespace-options';
import { EncryptionProvider } from './security/encryption-provider.interface';
import { AuditSink } from './audit/audit-sink';
import { AuditTrail } from './audit/audit-trail';
import { LoggerAuditSink } from './audit/logger-audit-sink';
import { subscribeAudit } from './audit/subscribe-audit';
import { CacheAccessControl } from './access/cache-access-control';
import { NamespaceAccess } from './access/namespace-access';
import { DefaultPrincipalResolver, PrincipalResolver } from './access/principal-resolver';
import { describeError } from './logging/error-fields';

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
  private readonly encryptionProviders = new Map<string, EncryptionProvider>();
  private readonly resolved: ResolvedCacheOptions;
  private readonly logger = new Logger('CacheRegistry');
  /** Breakers and the invalidation bus of namespaces with an `l1`. */
  private readonly tiers: TierRuntime;
  /** Read by the optional Prometheus and OpenTelemetry parts (`observedCaches`). @internal */
  readonly observability: CacheObservability;
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
    this.tiers = new TierRuntime({
      bus: resolveBusOptions(this.resolved.raw, this.resolved.raw.keyPrefix ?? DEFAULT_KEY_PREFIX),
      breaker: resolveBreakerOptions(this.resolved.raw),
      events: this.events,
    });
    this.observability = new CacheObservability(this.resolved.observability, this.events);
    const { rbac, audit } = this.resolved;
    this.audit = new AuditTrail(sink ?? options.audit?.sink ?? new LoggerAuditSink(), audit.keyHashSecret, audit.enabled);
    const scoped = [...this.resolved.namespaces.values()].some((ns) => ns.scope !== 'none');
    this.access = new CacheAccessControl(rbac, resolver ?? options.rbac?.principalResolver ?? new DefaultPrincipalResolver(), this.audit, this.events, scoped);
    if (audit.enabled) subscribeAudit(this.events, this.audit, () => this.access.actor());
    if (audit.enabled && audit.generatedSecret) {
      new Logger('CacheAudit').warn('audit.keyHashSecret is not set: key hashes in audit records compare only within this process');
    }
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
          maxPayloadBytes: maxPayloadBytes(ns),
          payloadFormat: ns.payloadFormat,
          eviction: ns.eviction,
          onRemove: (key: string, reason: string) => this.events.emit(reason === 'capacity' ? 'evicted' : 'expired', { namespace: ns.name, key }),
        };
        const stored = factory.create(context);
        if (ns.valueSchema !== undefined && stored.storesLiveValues) {
          this.logger.log(`namespaces.${ns.name}.valueSchema is not applied: the "${stored.name}" backend keeps this process's own live values`);
        }
        const options = await this.withEncryptionProvider(ns);
        // Tiers are built with the namespace's codec; a plain backend gets its own from the namespace.
        const store = ns.resilience
          ? this.tiers.store(context, ns.resilience, stored, ns.backend, factory, new ValueCodec(options, stored.name, this.events, true, stored.storesBytes === true), this.resolved.observability.tracing)
          : stored;
        const access = new NamespaceAccess(new NamespaceKeys(ns.name, ns.maxKeyLength, ns.keyCharset, ns.scope), this.access);
        const observer = this.observability.observer(ns.name, store);
        this.namespaces.set(ns.name, new CacheNamespace(options, store, this.events, observer, access));
      }
      this.tiers.start();
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

  /** Closes every factory; one that fails to close is logged and does not keep the others open. */
  async onApplicationShutdown(): Promise<void> {
    this.observability.close();
    await this.tiers.close();
    const factories = [...this.factories.entries()];
    this.factories.clear();
    const results = await Promise.allSettled(factories.map(async ([, f]) => f.close?.()));
    results.forEach((result, i) => {
      if (result.status === 'rejected') {
        this.logger.error(`Closing backend "${factories[i][0]}" failed: ${describeError(result.reason)}`);
      }
    });
  }

  /** A provider registered as a class is instantiated once, with Nest's DI, and shared by the namespaces naming it. */
  private async withEncryptionProvider(ns: ResolvedNamespaceOptions): Promise<ResolvedNamespaceOptions> {
    const registered = (ns.encryption?.provider as { registered?: string } | undefined)?.registered;
    if (registered === undefined) return ns;
    let provider = this.encryptionProviders.get(registered);
    if (provider === undefined) {
      provider = await this.moduleRef.create(this.resolved.raw.encryptionProviders![registered] as Type<EncryptionProvider>);
      this.encryptionProviders.set(registered, provider);
    }
    return { ...ns, encryption: { ...ns.encryption!, provider } };
  }

  /**
   * The factory registered under `name` (built-in or the app's own, alike: validation saw to it that
   * it exists), made once and connected once; held from before `connect()`, so a failed start closes it.
   */
  private async factory(name: string): Promise<CacheBackendFactory> {
    let factory = this.factories.get(name);
    if (factory !== undefined) return factory;
    const registered = this.resolved.backends.get(name)!;
    factory = typeof registered === 'function' ? await this.moduleRef.create(registered) : registered;
    this.factories.set(name, factory);
    await factory.connect?.();
    return factory;
  }
}
