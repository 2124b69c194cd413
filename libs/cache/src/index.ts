// The public API of nest-cachekit; nothing else is exported.
export { CacheModule } from './cache.module';
export type { CacheModuleAsyncOptions } from './cache.module';
export { CacheService } from './cache.service';
export { CacheNamespace } from './namespace/cache-namespace';
export type { SetOptions, GetOrSetOptions, CacheEntryInput } from './namespace/cache-namespace';
export type { NamespaceStats, TierStats, BusStats, TrackingStats } from './namespace/namespace-stats';
export { CacheEvents } from './events/cache-events';
export type { CacheEventMap, CacheEventName, CacheEventListener } from './events/cache-events';
export { InjectCache, getCacheToken } from './namespace/inject-cache.decorator';
export { Cacheable } from './decorators/cacheable.decorator';
export { CachePut } from './decorators/cache-put.decorator';
export { CacheEvict } from './decorators/cache-evict.decorator';
export type { CacheableOptions, CachePutOptions, CacheEvictOptions, CacheKeySpec } from './decorators/cache-decorator-options';
export { CacheDecoratorError, defaultKey, encodeKeyPart, formatCacheKey } from './decorators/cache-key';
export { CacheInterceptor } from './http/cache.interceptor';
export { CacheRoute } from './http/cache-route.decorator';
export type { CacheRouteOptions } from './http/cache-route.decorator';
export { Warmup } from './warmup/warmup.decorator';
export type { WarmupOptions } from './warmup/warmup.decorator';
export { WarmupService, WarmupFailedError } from './warmup/warmup.service';
export type { WarmupTask, WarmupReport } from './warmup/warmup.service';
export type { CacheModuleOptions, NamespaceOptions, CacheOptionsFactory } from './options/cache-module-options.interface';
export type { ObservabilityOptions } from './observability/observability-options';
export { CacheHealthIndicator } from './health/cache-health.indicator';
export type { CacheHealthResult } from './health/cache-health.indicator';
export { markCacheTier } from './tracing/mark-cache-tier';
export { CacheOperationContext } from './tracing/cache-channels';
export type { CacheOperationOutcome } from './tracing/cache-channels';
export { CACHE_OPERATIONS } from './metrics/cache-operations';
export type { CacheOperationName } from './metrics/cache-operations';
export { MetricNameTakenError } from './prometheus/metric-name-taken.error';
export { parseTtl } from './ttl/parse-ttl';
export type { Ttl } from './ttl/parse-ttl';

export type {
  CacheBackend, CacheBackendFactory, BackendContext, BackendEntry, BackendStats, BackendHealth, MaybePromise, RemovalReason,
} from './backends/cache-backend.interface';
export { OversizedPayload } from './backends/cache-backend.interface';
export { MemoryBackend } from './backends/memory/memory-backend';
export type { MemoryBackendOptions } from './backends/memory/memory-backend';
export { RedisBackend } from './backends/redis/redis-backend';
export type { RedisConnectionOptions, RedisTlsOptions } from './backends/redis/redis-connection-options';
export type {
  RedisClusterOptions, RedisNodeAddress, RedisPoolOptions, RedisSentinelOptions,
} from './backends/redis/topology/redis-topology-options';
export { redisOptionsFromEnv } from './backends/redis/topology/redis-options-from-env';
export { RedisConnectionPool } from './backends/redis/topology/redis-connection-pool';
export { keySlot } from './backends/redis/topology/key-slot';
export type { L1Options, L1Coherence, FailSafeOptions, LockOptions, BusOptions, BreakerOptions } from './tiers/tier-options';
export type { BreakerState } from './tiers/circuit-breaker';
export { FaultInjectionBackend, FaultInjectionBackendFactory } from './backends/fault-injection/fault-injection-backend';
export type { FaultInjectionOptions, FaultInjectionCounters } from './backends/fault-injection/fault-injection-backend';

export type { EvictionStrategy, EvictionStrategyFactory } from './eviction/eviction-strategy.interface';
export { LruStrategy } from './eviction/lru-strategy';
export { LfuStrategy } from './eviction/lfu-strategy';
export { AdaptiveStrategy } from './eviction/adaptive/adaptive-strategy';

export type { Serializer } from './serialization/serializer.interface';
export { TaggedJsonSerializer } from './serialization/tagged-json-serializer';
export { UnsupportedValueError } from './serialization/unsupported-value.error';

export { EncryptionProvider } from './security/encryption-provider.interface';
export type { EncryptionContext, DecryptedPayload } from './security/encryption-provider.interface';
export type { NamespaceEncryptionOptions } from './security/encryption-options';
export type { EncryptionKeyInput } from './security/encryption-keys';
export { AesGcmEncryptionProvider } from './security/aes-gcm-encryption-provider';
export type { AesGcmEncryptionProviderOptions } from './security/aes-gcm-encryption-provider';
export { FernetEncryptionProvider } from './security/fernet-encryption-provider';
export type { FernetEncryptionProviderOptions } from './security/fernet-encryption-provider';
export { Fernet } from './security/fernet/fernet';
export { InvalidTokenError } from './security/fernet/invalid-token.error';
export { DecryptionFailedError } from './security/decryption-failed.error';
export type { DecryptionFailureReason } from './security/decryption-failed.error';
export { InvalidEncryptionKeyError } from './security/invalid-encryption-key.error';

export { CacheError } from './errors/cache-error';
export { InvalidKeyError } from './errors/invalid-key.error';
export { InvalidValueError } from './errors/invalid-value.error';
export { ValueTooLargeError } from './errors/value-too-large.error';
export { BackendUnavailableError } from './errors/backend-unavailable.error';
export { InvalidTtlError } from './errors/invalid-ttl.error';
export { InvalidOptionsError } from './errors/invalid-options.error';
export type { OptionProblem } from './errors/invalid-options.error';
export { UnknownNamespaceError } from './errors/unknown-namespace.error';
export { TagsUnsupportedError } from './errors/tags-unsupported.error';
export { InvalidArgumentError } from './errors/invalid-argument.error';
export { ContractViolationError } from './errors/contract-violation.error';

export { CachekitKeyvStore } from './interop/keyv-store';
export type { KeyvStoreEntry } from './interop/keyv-store';
export { CacheManagerStoreBackend, CacheManagerStoreBackendFactory } from './interop/cache-manager-store.backend';
export type { CacheManagerStore } from './interop/cache-manager-store.interface';
export { LoaderTimeoutError } from './errors/loader-timeout.error';
export { CacheAccessControl } from './access/cache-access-control';
export { CacheAccessDeniedError } from './access/cache-access-denied.error';
export type { CachePermission, CacheOperation } from './access/cache-permission';
export { REQUIRED_PERMISSIONS } from './access/cache-permission';
export type { CachePrincipal } from './access/cache-principal';
export { PrincipalResolver, DefaultPrincipalResolver } from './access/principal-resolver';
export type { RbacOptions } from './access/rbac-options';
export { CacheRoles } from './access/cache-roles.decorator';
export { CacheRolesGuard } from './access/cache-roles.guard';
export { PrincipalContextMiddleware } from './access/principal-context.middleware';
export { PrincipalContextInterceptor } from './access/principal-context.interceptor';
export type { ValueSchemaOptions } from './security/value-schema/value-schema';
export type { KeyScope } from './keys/scoped-key';
export type { KeyCharset } from './keys/canonical-key';
export { AuditSink } from './audit/audit-sink';
export { AuditTrail } from './audit/audit-trail';
export type { AuditStats } from './audit/audit-trail';
export { LoggerAuditSink } from './audit/logger-audit-sink';
export type { AuditRecord, AuditAction, AuditOutcome, AuditInput, AuditActor, AuditActorKind } from './audit/audit-record';
export type { AuditOptions } from './audit/audit-options';
export { CacheAdminModule } from './admin/cache-admin.module';
export type { CacheAdminModuleOptions } from './admin/cache-admin.module';
