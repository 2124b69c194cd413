import { DynamicModule, MiddlewareConsumer, Module, NestModule, Provider } from '@nestjs/common';
import { APP_INTERCEPTOR, DiscoveryModule, ModuleRef } from '@nestjs/core';
import { WarmupService } from './warmup/warmup.service';
import { CacheInterceptor } from './http/cache.interceptor';
import { CACHE_ASYNC_OPTIONS_TYPE, CACHE_MODULE_OPTIONS, CACHE_OPTIONS_TYPE, ConfigurableCacheModule } from './cache.module-definition';
import { CacheRegistry } from './cache-registry';
import { CacheService } from './cache.service';
import { CacheDecoratorsExplorer } from './decorators/cache-decorators.explorer';
import { getCacheToken } from './namespace/inject-cache.decorator';
import { CacheHealthIndicator } from './health/cache-health.indicator';
import { CacheModuleOptions } from './options/cache-module-options.interface';
import { DEFAULT_NAMESPACE } from './options/resolve-cache-options';
import { AuditSink } from './audit/audit-sink';
import { AuditTrail } from './audit/audit-trail';
import { LoggerAuditSink } from './audit/logger-audit-sink';
import { CacheAccessControl } from './access/cache-access-control';
import { CacheRolesGuard } from './access/cache-roles.guard';
import { PrincipalContextInterceptor } from './access/principal-context.interceptor';
import { PrincipalContextMiddleware } from './access/principal-context.middleware';
import { DefaultPrincipalResolver, PrincipalResolver } from './access/principal-resolver';

export type CacheModuleAsyncOptions = typeof CACHE_ASYNC_OPTIONS_TYPE & {
  /** Namespaces to make injectable with `@InjectCache(name)` (the async options are not known yet when the module is built). */
  namespaces?: string[];
};

const registryProvider: Provider = {
  provide: CacheRegistry,
  useFactory: (options: CacheModuleOptions, moduleRef: ModuleRef, sink: AuditSink, resolver: PrincipalResolver) =>
    new CacheRegistry(options, moduleRef, sink, resolver).init(),
  inject: [CACHE_MODULE_OPTIONS, ModuleRef, AuditSink, PrincipalResolver],
};

/** The sink, resolver and access control are injectable (and overridable, e.g. by a test's own AuditSink). */
const accessProviders: Provider[] = [
  { provide: AuditSink, useFactory: (options: CacheModuleOptions) => options?.audit?.sink ?? new LoggerAuditSink(), inject: [CACHE_MODULE_OPTIONS] },
  { provide: PrincipalResolver, useFactory: (options: CacheModuleOptions) => options?.rbac?.principalResolver ?? new DefaultPrincipalResolver(), inject: [CACHE_MODULE_OPTIONS] },
  { provide: CacheAccessControl, useFactory: (registry: CacheRegistry) => registry.access, inject: [CacheRegistry] },
  { provide: AuditTrail, useFactory: (registry: CacheRegistry) => registry.audit, inject: [CacheRegistry] },
  PrincipalContextMiddleware,
  PrincipalContextInterceptor,
  // Around every handler, after all middleware: no middleware can make a handler's cache calls lose the request's principal.
  { provide: APP_INTERCEPTOR, useExisting: PrincipalContextInterceptor },
  CacheRolesGuard,
];

/**
 * `CacheModule.forRoot(options)` or `CacheModule.forRootAsync({ imports, inject, useFactory |
 * useClass | useExisting, namespaces })`, with `isGlobal` to provide `CacheService` app-wide. Options
 * are validated when the app starts; a bad option fails the start with an `InvalidOptionsError`
 * naming the field.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [registryProvider, CacheService, CacheDecoratorsExplorer, WarmupService, CacheInterceptor, CacheHealthIndicator, ...accessProviders],
  exports: [
    CacheService, WarmupService, CacheInterceptor, CacheRegistry, CacheHealthIndicator, CacheAccessControl, AuditTrail, AuditSink, PrincipalResolver, CacheRolesGuard,
    PrincipalContextInterceptor,
  ],
})
export class CacheModule extends ConfigurableCacheModule implements NestModule {
  /**
   * Every request gets a principal scope for its middleware and guards (a no-op while nothing needs a
   * principal). `{*splat}` is path-to-regexp 8's "every path, the root included": Nest 11 takes it
   * without a warning on Express and Fastify, with or without a global prefix (`'*'` warns there).
   */
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(PrincipalContextMiddleware).forRoutes('{*splat}');
  }

  static override forRoot(options: typeof CACHE_OPTIONS_TYPE): DynamicModule {
    const names = new Set(Object.keys(options?.namespaces ?? {}));
    names.add(options?.defaultNamespace ?? DEFAULT_NAMESPACE);
    return withNamespaceTokens(super.forRoot(options), [...names]);
  }

  static override forRootAsync(options: CacheModuleAsyncOptions): DynamicModule {
    const { namespaces = [], ...asyncOptions } = options;
    return withNamespaceTokens(super.forRootAsync(asyncOptions), namespaces);
  }
}

function withNamespaceTokens(module: DynamicModule, names: readonly string[]): DynamicModule {
  const providers: Provider[] = names.map((name) => ({
    provide: getCacheToken(name),
    useFactory: (registry: CacheRegistry) => registry.namespace(name),
    inject: [CacheRegistry],
  }));
  return {
    ...module,
    providers: [...(module.providers ?? []), ...providers],
    exports: [...(module.exports ?? []), ...names.map(getCacheToken)],
  };
}
