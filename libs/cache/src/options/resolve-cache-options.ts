import { InvalidOptionsError, OptionProblem } from '../errors/invalid-options.error';
import { BUILT_IN_EVICTION_POLICIES, EvictionPolicy, evictionStrategyFactory } from '../eviction/create-eviction-strategy';
import { resolveCompression, resolvePayloadFormat } from '../codec/payload-options';
import { checkEncryptionProviders, leavesKeyUnbound, NamespaceEncryptionOptionsDto, resolveNamespaceEncryption } from '../security/encryption-options';
import { BinarySerializer, isBinarySerializer, NamespaceSerializer } from '../serialization/binary-serializer.interface';
import { Serializer } from '../serialization/serializer.interface';
import { TaggedJsonSerializer } from '../serialization/tagged-json-serializer';
import { parseTtl } from '../ttl/parse-ttl';
import { CacheModuleOptions, NamespaceOptions } from './cache-module-options.interface';
import { checkRedisTopology } from './check-redis-topology';
import { BackendRegistration, builtInBackends, isBuiltInBackend } from '../backends/built-in-backends';
import {
  CacheModuleOptionsDto, NamespaceOptionsDto, RedisOptionsDto, RedisTlsOptionsDto,
  WarmupOptionsDto,
} from './option-dtos';
import { check, describe } from './check-option-dto';
import { ResolvedNamespaceOptions } from './resolved-namespace-options';
import { checkModuleResilience, resolveResilience } from '../tiers/resilience-options';
import { ResolvedObservabilityOptions, resolveObservabilityOptions } from '../observability/observability-options';
import { ResolvedRbacOptions } from '../access/rbac-options';
import { compileValueSchema } from '../security/value-schema/value-schema';
import { resolveAccessOptions, ResolvedAuditOptions } from './resolve-access-options';

export const DEFAULT_NAMESPACE = 'default';
export const DEFAULT_KEY_PREFIX = 'cache:';
export const DEFAULT_MAX_ENTRIES = 10_000;
export const DEFAULT_MAX_VALUE_BYTES = 1024 * 1024;
export const DEFAULT_MAX_KEY_LENGTH = 1024;
const NAMESPACE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export interface ResolvedCacheOptions {
  readonly defaultNamespace: string;
  readonly namespaces: ReadonlyMap<string, ResolvedNamespaceOptions>;
  /** Every backend a namespace may name: the built-in ones, then the app's own (`backends`). */
  readonly backends: ReadonlyMap<string, BackendRegistration>;
  readonly raw: CacheModuleOptions;
  readonly observability: ResolvedObservabilityOptions;
  readonly rbac: ResolvedRbacOptions;
  readonly audit: ResolvedAuditOptions;
}

/**
 * Validates the module options once, at start-up, and fills in every default. Collects every
 * problem (not just the first) and throws one `InvalidOptionsError` whose lines name each field's
 * path, e.g. `namespaces.users.ttl`.
 */
export function resolveCacheOptions(raw: CacheModuleOptions): ResolvedCacheOptions {
  const problems: OptionProblem[] = [];
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new InvalidOptionsError([{ path: '(options)', reason: 'must be an object' }]);
  }
  check(CacheModuleOptionsDto, raw, '', problems);
  if (isObject(raw.redis)) {
    check(RedisOptionsDto, raw.redis, 'redis.', problems);
    const tls = raw.redis.tls;
    if (isObject(tls)) check(RedisTlsOptionsDto, tls, 'redis.tls.', problems);
    else if (tls !== undefined && typeof tls !== 'boolean') problems.push({ path: 'redis.tls', reason: 'must be a boolean or an object' });
    checkRedisTopology(raw.redis, problems, check);
  }
  if (isObject(raw.warmup)) check(WarmupOptionsDto, raw.warmup, 'warmup.', problems);
  checkModuleResilience(raw, problems, check);
  const backends = builtInBackends(isObject(raw.redis) ? raw.redis : undefined);
  const registered = isObject(raw.backends) ? (raw.backends as Record<string, unknown>) : {};
  for (const [name, factory] of Object.entries(registered)) {
    if (isBuiltInBackend(name)) {
      problems.push({ path: `backends.${name}`, reason: `"${name}" is a built-in backend name; pick another` });
      continue;
    }
    if (typeof factory !== 'function' && !(isObject(factory) && typeof (factory as { create?: unknown }).create === 'function')) {
      problems.push({ path: `backends.${name}`, reason: 'must be a CacheBackendFactory (an object with create()) or a class implementing it' });
    }
    backends.set(name, factory as BackendRegistration);
  }

  const encryptionProviders = isObject(raw.encryptionProviders) ? (raw.encryptionProviders as Record<string, unknown>) : {};
  checkEncryptionProviders(encryptionProviders, problems);

  const defaults: NamespaceOptions = isObject(raw.defaults) ? raw.defaults : {};
  const beforeDefaults = problems.length;
  if (isObject(raw.defaults)) checkNamespace(raw.defaults, 'defaults.', problems);
  // Built once, so that namespaces inheriting it share one provider and its problems are reported once.
  const defaultEncryption = problems.length > beforeDefaults
    ? undefined
    : resolveNamespaceEncryption(defaults.encryption, 'defaults.encryption', encryptionProviders, problems);
  const declared: Record<string, NamespaceOptions> = isObject(raw.namespaces) ? { ...raw.namespaces } : {};
  const defaultNamespace = typeof raw.defaultNamespace === 'string' ? raw.defaultNamespace : DEFAULT_NAMESPACE;
  if (!Object.hasOwn(declared, defaultNamespace)) declared[defaultNamespace] = {};

  const globalPrefix = typeof raw.keyPrefix === 'string' ? raw.keyPrefix : DEFAULT_KEY_PREFIX;
  const namespaces = new Map<string, ResolvedNamespaceOptions>();
  for (const [name, own] of Object.entries(declared)) {
    const path = `namespaces.${name}.`;
    if (!NAMESPACE_NAME.test(name)) {
      problems.push({ path: `namespaces.${JSON.stringify(name)}`, reason: 'a namespace name must be 1-64 letters, digits, "_", "-" or ".", starting with a letter or digit' });
      continue;
    }
    if (!isObject(own)) {
      problems.push({ path: `namespaces.${name}`, reason: 'must be an object' });
      continue;
    }
    const before = problems.length;
    checkNamespace(own, path, problems);
    const merged: NamespaceOptions = { ...defaults, ...own };
    const backend = merged.backend ?? 'memory';
    if (typeof backend === 'string' && !backends.has(backend)) {
      problems.push({
        path: `${path}backend`,
        // Built-in names are registered like the app's own; "redis" is, once its connection options are set.
        reason: backend === 'redis'
          ? 'is "redis" but no "redis" connection options are set'
          : `unknown backend "${backend}"; use "memory", "redis" or a name registered under "backends"`,
      });
    }
    if (problems.length > before) continue;
    let ttlMs = 0;
    try {
      ttlMs = merged.ttl === undefined ? 0 : parseTtl(merged.ttl, `${path}ttl`);
    } catch {
      continue; // An invalid inherited `defaults.ttl`, already reported under its own path.
    }
    const maxBytes = merged.maxBytes ?? 0;
    if (merged.maxValueBytes !== undefined && maxBytes > 0 && merged.maxValueBytes > maxBytes) {
      problems.push({ path: `${path}maxValueBytes`, reason: `is ${merged.maxValueBytes}, larger than maxBytes (${maxBytes}); no such value could be stored` });
      continue;
    }
    const resilience = resolveResilience(merged, backend, path, raw, problems, check);
    if (problems.length > before) continue;
    const eviction = (merged.eviction ?? 'lru') as EvictionPolicy;
    const encryption = Object.hasOwn(own, 'encryption')
      ? resolveNamespaceEncryption(own.encryption, `${path}encryption`, encryptionProviders, problems)
      : defaultEncryption;
    // Memory namespaces keep live values and seal nothing.
    if (encryption && backend !== 'memory' && (merged.scope ?? 'none') !== 'none' && leavesKeyUnbound(Object.hasOwn(own, 'encryption') ? own.encryption : defaults.encryption)) {
      problems.push({
        path: `${path}encryption.bindContext`,
        reason: `must be true in a namespace scoped per ${merged.scope}: an unbound Fernet token copied in Redis onto another owner's key would open as that owner's entry`,
      });
      continue;
    }
    const compression = resolveCompression(merged.compression, `${path}compression`, problems);
    const encryptionOptions = (Object.hasOwn(own, 'encryption') ? own.encryption : defaults.encryption) as { provider?: string; enabled?: boolean } | false | undefined;
    const provider = encryption === undefined || !encryptionOptions ? undefined : (encryptionOptions.provider ?? 'aes-256-gcm');
    const serializer: NamespaceSerializer = merged.serializer ?? new TaggedJsonSerializer();
    const payloadFormat = resolvePayloadFormat(merged.payloadFormat, `${path}payloadFormat`, provider, compression, problems, isBinarySerializer(serializer) ? serializer.name : undefined);
    namespaces.set(name, {
      name,
      backend,
      ttlMs,
      maxEntries: merged.maxEntries ?? DEFAULT_MAX_ENTRIES,
      maxBytes,
      // A value larger than the whole namespace could never be stored: cap the default at maxBytes.
      maxValueBytes: merged.maxValueBytes ?? (maxBytes > 0 ? Math.min(maxBytes, DEFAULT_MAX_VALUE_BYTES) : DEFAULT_MAX_VALUE_BYTES),
      keyPrefix: globalPrefix + (merged.keyPrefix ?? `{${name}}:`),
      evictionName: typeof eviction === 'string' ? eviction : 'custom',
      eviction: evictionStrategyFactory(eviction),
      maxKeyLength: merged.maxKeyLength ?? DEFAULT_MAX_KEY_LENGTH,
      serializer,
      ...(resilience ? { resilience } : {}),
      ...(encryption && { encryption }),
      payloadFormat,
      ...(compression && { compression }),
      scope: merged.scope ?? 'none',
      keyCharset: merged.keyCharset ?? 'unicode',
      ...(merged.valueSchema !== undefined ? { valueSchema: compileValueSchema(merged.valueSchema) } : {}),
    });
  }
  checkPrefixesDisjoint(namespaces, problems);
  const observability = resolveObservabilityOptions(raw.observability, problems);
  const { rbac, audit } = resolveAccessOptions(raw, Object.keys(declared), problems, check);
  if (problems.length > 0) throw new InvalidOptionsError(problems);
  return { defaultNamespace, namespaces, backends, raw, observability, rbac, audit };
}

function checkNamespace(options: object, path: string, problems: OptionProblem[]): void {
  check(NamespaceOptionsDto, options, path, problems);
  const ns = options as NamespaceOptions;
  if (ns.ttl !== undefined) {
    try {
      parseTtl(ns.ttl, `${path}ttl`);
    } catch (error) {
      problems.push({ path: `${path}ttl`, reason: (error as Error).message.replace(/^Invalid TTL in \S+: /, '') });
    }
  }
  const eviction: unknown = ns.eviction;
  if (eviction !== undefined && typeof eviction !== 'function' && !(BUILT_IN_EVICTION_POLICIES as readonly unknown[]).includes(eviction)) {
    problems.push({ path: `${path}eviction`, reason: `must be ${BUILT_IN_EVICTION_POLICIES.map((p) => `"${p}"`).join(', ')} or a function returning an EvictionStrategy (got ${describe(eviction)})` });
  }
  if (isObject(ns.encryption)) check(NamespaceEncryptionOptionsDto, ns.encryption, `${path}encryption.`, problems);
  const serializer = ns.serializer as Partial<Serializer & BinarySerializer> | undefined;
  if (serializer !== undefined && (!isObject(serializer) || !(
    (typeof serializer.serialize === 'function' && typeof serializer.deserialize === 'function')
    || (typeof serializer.serializeBytes === 'function' && typeof serializer.deserializeBytes === 'function')))) {
    problems.push({ path: `${path}serializer`, reason: 'must be an object with serialize() and deserialize(), or serializeBytes() and deserializeBytes()' });
  }
  const schema = ns.valueSchema as { dto?: unknown; each?: unknown; nullable?: unknown } | undefined;
  if (schema !== undefined && (!isObject(schema) || typeof schema.dto !== 'function'
    || (schema.each !== undefined && typeof schema.each !== 'boolean') || (schema.nullable !== undefined && typeof schema.nullable !== 'boolean'))) {
    problems.push({ path: `${path}valueSchema`, reason: 'must be { dto: a class-validator DTO class, each?: boolean, nullable?: boolean }' });
  }
}

/** Namespaces on one shared store must not be able to address each other's keys (or SCAN them away). */
function checkPrefixesDisjoint(namespaces: Map<string, ResolvedNamespaceOptions>, problems: OptionProblem[]): void {
  const shared = [...namespaces.values()].filter((ns) => ns.backend !== 'memory');
  for (const a of shared) {
    for (const b of shared) {
      if (a !== b && a.backend === b.backend && b.keyPrefix.startsWith(a.keyPrefix)) {
        problems.push({
          path: `namespaces.${b.name}.keyPrefix`,
          reason: `key prefix "${b.keyPrefix}" starts with namespace "${a.name}"'s prefix "${a.keyPrefix}" on the same backend; the two would overlap`,
        });
      }
    }
  }
}

function isObject(value: unknown): value is Record<string, any> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
