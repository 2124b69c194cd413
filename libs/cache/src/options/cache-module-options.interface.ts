import { Type } from '@nestjs/common';
import { BreakerOptions, BusOptions, FailSafeOptions, L1Coherence, L1Options, LockOptions } from '../tiers/tier-options';
import { CacheBackendFactory } from '../backends/cache-backend.interface';
import { RedisConnectionOptions } from '../backends/redis/redis-connection-options';
import { NamespaceEncryptionOptions } from '../security/encryption-options';
import { CompressionOptions, PayloadFormat } from '../codec/payload-options';
import { EncryptionProvider } from '../security/encryption-provider.interface';
import { EvictionPolicy } from '../eviction/create-eviction-strategy';
import { ObservabilityOptions } from '../observability/observability-options';
import { NamespaceSerializer } from '../serialization/binary-serializer.interface';
import { AuditOptions } from '../audit/audit-options';
import { KeyCharset } from '../keys/canonical-key';
import { KeyScope } from '../keys/scoped-key';
import { RbacOptions } from '../access/rbac-options';
import { ValueSchemaOptions } from '../security/value-schema/value-schema';
import { Ttl } from '../ttl/parse-ttl';

/** Settings of one namespace; anything left out comes from `defaults`, then from the built-in defaults. */
export interface NamespaceOptions {
  /** `'memory'` (default), `'redis'`, or the name of an entry in `backends`. */
  backend?: string;
  /** Default TTL of entries: milliseconds or a duration string (`'30s'`, `'1h'`). 0 = no expiry (default). */
  ttl?: Ttl;
  /** Memory backend: entries kept before evicting. Default 10 000. */
  maxEntries?: number;
  /** Memory backend: bound on what the namespace holds in the heap (values, keys, tags, per-entry structure). Default: none. */
  maxBytes?: number;
  /** Largest single value accepted by `set` (serialized bytes, or estimated size in memory). Default 1 MiB. */
  maxValueBytes?: number;
  /** Appended to the global `keyPrefix` on shared backends. Default `{<namespace>}:`. */
  keyPrefix?: string;
  /** Memory backend eviction: `'lru'` (default), `'lfu'`, `'adaptive'` (learns from the workload), or a factory of your own `EvictionStrategy`. */
  eviction?: EvictionPolicy;
  /** Longest key accepted, in characters. Default 1024. */
  maxKeyLength?: number;
  /**
   * Serializer for backends that store bytes. Default `TaggedJsonSerializer`. A byte serializer
   * (`MsgpackSerializer`, or your `BinarySerializer`) needs binary payloads: a backend that stores
   * bytes (`redis`) and a provider that seals bytes (not Fernet); `payloadFormat` then defaults to `'binary'`.
   */
  serializer?: NamespaceSerializer;
  /** An in-process L1 in front of this namespace's shared backend (`redis`): see docs/resilience-and-tiers.md. */
  l1?: L1Options;
  /** Grace period and loader timeouts (needs `l1`). */
  failSafe?: FailSafeOptions;
  /** One `getOrSet` loader per key across instances (needs `l1` on `redis`). `true` for the defaults. */
  lock?: boolean | LockOptions;
  /** Encryption at rest for backends that store bytes (Redis, yours). Default: off. */
  encryption?: NamespaceEncryptionOptions | false;
  /**
   * How payloads are stored in Redis: `'binary'` (sealed and compressed bytes as bytes) or `'text'`
   * (what earlier versions wrote: base64url seals). Default: `'binary'` with `xchacha20-poly1305`,
   * `compression` or a byte serializer, `'text'` otherwise. Both formats are always read (a byte
   * serializer reads binary payloads only).
   */
  payloadFormat?: PayloadFormat;
  /** Compression of values above a size threshold, before sealing (binary payloads). Default: off. */
  compression?: CompressionOptions | false;
  /** Per-user (`'user'`) or per-tenant (`'tenant'`) data: every key is prefixed with its owner, from the caller's principal. Default `'none'`. */
  scope?: KeyScope;
  /** `'unicode'` (default: NFC, no control or invisible characters) or `'ascii'` (printable ASCII only). */
  keyCharset?: KeyCharset;
  /** A class-validator DTO every value read from a byte-storing backend must satisfy (else: a miss, deleted). */
  valueSchema?: ValueSchemaOptions;
}

export interface CacheModuleOptions {
  /** Namespace used by `CacheService.get/set/...`. Default `'default'` (created if not listed). */
  defaultNamespace?: string;
  /** Prefix of every key on shared backends (Redis). Default `'cache:'`. */
  keyPrefix?: string;
  /** Settings every namespace starts from. */
  defaults?: NamespaceOptions;
  /** Namespaces by name (letters, digits, `_`, `-`, `.`; up to 64 characters). */
  namespaces?: Record<string, NamespaceOptions>;
  /** Connection used by every namespace whose backend is `'redis'`. */
  redis?: RedisConnectionOptions;
  /**
   * Your own backends by name: a factory instance (e.g. injected into `forRootAsync`'s factory) or a
   * class that Nest instantiates with dependency injection.
   */
  backends?: Record<string, CacheBackendFactory | Type<CacheBackendFactory>>;
  /**
   * Your own encryption providers by name, selected by `namespaces.x.encryption.provider`: an
   * instance (e.g. injected into `forRootAsync`'s factory) or a class Nest instantiates with DI.
   */
  encryptionProviders?: Record<string, EncryptionProvider | Type<EncryptionProvider>>;
  /** `@Warmup` methods: run at bootstrap (default true); a failure fails the start (default false). */
  warmup?: { onBootstrap?: boolean; failOnError?: boolean };
  /** The authenticated invalidation bus of L1 tiers on `redis` (required when a namespace has `l1` there). */
  bus?: BusOptions;
  /** Circuit breaker of the shared backends behind L1 tiers. */
  breaker?: BreakerOptions;
  /** The default `l1.coherence` of every namespace with an `l1` on `redis`: `'bus'` (default), `'tracking'` or `'both'`. */
  l1Coherence?: L1Coherence;
  /**
   * How often Redis key tracking proves its redirect connection delivers (a PING on it); L1 copies of
   * tracking namespaces are served as fresh up to 3 of these after the last answer. Default: `bus.heartbeat`, else 1 s.
   */
  trackingHeartbeat?: Ttl;
  /** What this module publishes on `node:diagnostics_channel` for metrics and traces (both on; free while nothing subscribes), per-operation debug logs (off). */
  observability?: ObservabilityOptions;
  /** Role-based access control of every cache operation. Off by default. */
  rbac?: RbacOptions;
  /** The audit trail: sink and key-hash secret. */
  audit?: AuditOptions;
}

/** For `forRootAsync({ useClass })` and `useExisting`. */
export interface CacheOptionsFactory {
  createCacheOptions(): CacheModuleOptions | Promise<CacheModuleOptions>;
}
