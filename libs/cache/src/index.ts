// The public API of nest-cachekit; nothing else is exported.
export { CacheModule, CacheModuleAsyncOptions } from './cache.module';
export { CacheService } from './cache.service';
export { CacheNamespace, SetOptions, CacheEntryInput } from './namespace/cache-namespace';
export { NamespaceStats } from './namespace/namespace-stats';
export { InjectCache, getCacheToken } from './namespace/inject-cache.decorator';
export { CacheModuleOptions, NamespaceOptions, CacheOptionsFactory } from './options/cache-module-options.interface';
export { Ttl, parseTtl } from './ttl/parse-ttl';

export {
  CacheBackend, CacheBackendFactory, BackendContext, BackendEntry, BackendStats, MaybePromise, RemovalReason,
} from './backends/cache-backend.interface';
export { MemoryBackend, MemoryBackendOptions } from './backends/memory/memory-backend';
export { RedisBackend } from './backends/redis/redis-backend';
export { RedisConnectionOptions, RedisTlsOptions } from './backends/redis/redis-connection-options';

export { EvictionStrategy, EvictionStrategyFactory } from './eviction/eviction-strategy.interface';
export { LruStrategy } from './eviction/lru-strategy';
export { LfuStrategy } from './eviction/lfu-strategy';

export { Serializer } from './serialization/serializer.interface';
export { TaggedJsonSerializer } from './serialization/tagged-json-serializer';
export { UnsupportedValueError } from './serialization/unsupported-value.error';

export { CacheError } from './errors/cache-error';
export { InvalidKeyError } from './errors/invalid-key.error';
export { InvalidValueError } from './errors/invalid-value.error';
export { ValueTooLargeError } from './errors/value-too-large.error';
export { BackendUnavailableError } from './errors/backend-unavailable.error';
export { InvalidTtlError } from './errors/invalid-ttl.error';
export { InvalidOptionsError, OptionProblem } from './errors/invalid-options.error';
export { UnknownNamespaceError } from './errors/unknown-namespace.error';
