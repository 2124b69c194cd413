import { Logger } from '@nestjs/common';
import { BackendUnavailableError } from '../errors/backend-unavailable.error';
import type { CacheRegistry } from '../cache-registry';
import { CacheNamespace } from '../namespace/cache-namespace';
import { Ttl } from '../ttl/parse-ttl';
import type { CacheOperation as CheckedOperation } from '../access/cache-permission';
import { CacheDecoratorError, KeyArgumentError, KeyBuilder, MethodRef } from './cache-key';
import { methodParameterNames } from './method-parameters';
import { describeError } from '../logging/error-fields';
import { logLine } from '../logging/log-line';
import { InvalidKeyError } from '../errors/invalid-key.error';

/** Set by `CacheDecoratorsExplorer` on every Nest-managed instance whose class has cached methods. */
export const CACHE_REGISTRY_REF = Symbol('nest-cachekit:registry');
/** Marks a wrapper installed by the cache decorators, and holds what it needs. */
export const CACHED_METHOD = Symbol('nest-cachekit:cached-method');

export interface CachingOperation {
  readonly kind: 'Cacheable' | 'CachePut';
  readonly namespace?: string;
  readonly ttl?: Ttl;
  readonly key: KeyBuilder;
  readonly tags: readonly KeyBuilder[];
  readonly condition?: (...args: any[]) => boolean;
  readonly unless?: (result: any, ...args: any[]) => boolean;
}

export interface EvictOperation {
  readonly kind: 'CacheEvict';
  readonly namespace?: string;
  readonly keys: readonly KeyBuilder[];
  readonly tags: readonly KeyBuilder[];
  readonly allEntries: boolean;
  readonly beforeInvocation: boolean;
  readonly condition?: (...args: any[]) => boolean;
}

export type CacheOperation = CachingOperation | EvictOperation;

export interface CachedMethod extends MethodRef {
  /** Declared `async` or returning `Promise<…>`; otherwise the cached path is synchronous too. */
  readonly asynchronous: boolean;
  readonly operations: CacheOperation[];
  readonly original: (...args: any[]) => unknown;
}

type Wrapped = ((...args: any[]) => unknown) & { [CACHED_METHOD]?: CachedMethod };
const logger = new Logger('CacheDecorators');

/**
 * Adds one cache operation to a method. The first cache decorator on a method wraps it once (the
 * wrapper keeps the method's name and copies every metadata key of the original, so Nest's route,
 * guard and Swagger metadata survive); further cache decorators only add operations to that wrapper.
 */
export function addCacheOperation(
  target: object,
  propertyKey: string | symbol,
  descriptor: PropertyDescriptor,
  decorator: string,
  build: (method: MethodRef) => CacheOperation,
): PropertyDescriptor {
  const current = descriptor.value as Wrapped;
  const className = (target as { constructor: { name: string } }).constructor.name;
  const methodName = String(propertyKey);
  if (typeof current !== 'function') throw new CacheDecoratorError({ className, methodName }, decorator, 'can only decorate methods');
  const existing = current[CACHED_METHOD];
  const original = existing?.original ?? current;
  const info: CachedMethod = existing ?? {
    className,
    methodName,
    parameterNames: methodParameterNames(original),
    asynchronous:
      original.constructor.name === 'AsyncFunction' || Reflect.getMetadata('design:returntype', target, propertyKey) === Promise,
    operations: [],
    original,
  };
  const operation = build(info);
  checkCombination(info, operation, decorator);
  info.operations.push(operation);
  if (existing) return descriptor;

  const wrapper: Wrapped = info.asynchronous
    ? async function (this: Record<symbol, unknown>, ...args: unknown[]) {
        const registry = this?.[CACHE_REGISTRY_REF] as CacheRegistry | undefined;
        return registry ? runAsync(registry, info, this, args) : original.apply(this, args);
      }
    : function (this: Record<symbol, unknown>, ...args: unknown[]) {
        const registry = this?.[CACHE_REGISTRY_REF] as CacheRegistry | undefined;
        return registry ? runSync(registry, info, this, args) : original.apply(this, args);
      };
  for (const key of Reflect.getMetadataKeys(original)) {
    Reflect.defineMetadata(key, Reflect.getMetadata(key, original), wrapper);
  }
  Object.defineProperty(wrapper, 'name', { value: original.name });
  wrapper[CACHED_METHOD] = info;
  descriptor.value = wrapper;
  return descriptor;
}

function checkCombination(info: CachedMethod, operation: CacheOperation, decorator: string): void {
  const kinds = new Set([...info.operations.map((o) => o.kind), operation.kind]);
  if (operation.kind === 'Cacheable' && info.operations.some((o) => o.kind === 'Cacheable')) {
    throw new CacheDecoratorError(info, decorator, 'only one @Cacheable per method');
  }
  if (kinds.has('Cacheable') && kinds.has('CachePut')) {
    throw new CacheDecoratorError(info, decorator, '@Cacheable and @CachePut on one method contradict each other (skip the call vs always call)');
  }
  if (!info.asynchronous && (operation.kind !== 'Cacheable' || operation.tags.length > 0)) {
    throw new CacheDecoratorError(info, decorator, 'the method is synchronous; declare it async (or returning Promise<…>) to evict, put or tag');
  }
}

async function runAsync(registry: CacheRegistry, info: CachedMethod, self: object, args: unknown[]): Promise<unknown> {
  const applies = (op: CacheOperation): boolean => op.condition === undefined || op.condition(...args);
  if (registry.access.needsRequestScope) precheck(registry, info.operations.filter(applies));
  for (const op of info.operations) {
    if (op.kind === 'CacheEvict' && op.beforeInvocation && applies(op)) await evict(registry, info, op, args);
  }
  const cacheable = info.operations.find((op) => op.kind === 'Cacheable' && applies(op));
  let result: unknown;
  if (cacheable?.kind === 'Cacheable') {
    const ns = namespaceOf(registry, cacheable);
    const { unless } = cacheable;
    let key: string | undefined;
    let tags: string[] | undefined;
    try {
      key = cacheable.key(args);
      tags = tagsOf(cacheable, args);
      result = await ns.getOrSet(key, () => info.original.apply(self, args), {
        ttl: cacheable.ttl,
        tags,
        cacheIf: unless ? (value: unknown) => !unless(value, ...args) : undefined,
      });
    } catch (error) {
      if (!bypassed(registry, ns, info, 'getOrSet', error, key === undefined ? undefined : [key], tags)) throw error;
      result = await info.original.apply(self, args);
    }
  } else {
    result = await info.original.apply(self, args);
  }
  for (const op of info.operations) {
    if (!applies(op)) continue;
    if (op.kind === 'CachePut' && result !== undefined && !op.unless?.(result, ...args)) {
      const ns = namespaceOf(registry, op);
      await tolerate(registry, ns, info, 'set', () => {
        const key = op.key(args);
        return { keys: [key], tags: tagsOf(op, args), work: (keys, tags) => ns.set(keys[0], result, { ttl: op.ttl, tags }) };
      });
    } else if (op.kind === 'CacheEvict' && !op.beforeInvocation) {
      await evict(registry, info, op, args);
    }
  }
  return result;
}

function runSync(registry: CacheRegistry, info: CachedMethod, self: object, args: unknown[]): unknown {
  const op = info.operations[0] as CachingOperation;
  if (op.condition !== undefined && !op.condition(...args)) return info.original.apply(self, args);
  const { unless } = op;
  const ns = namespaceOf(registry, op);
  let key: string | undefined;
  try {
    key = op.key(args);
    return ns.getOrSetSync(
      key,
      () => {
        const value = info.original.apply(self, args);
        if (value instanceof Promise) {
          throw new CacheDecoratorError(info, 'Cacheable', 'the method returned a promise but is neither async nor typed as returning Promise<…>; declare it so');
        }
        return value;
      },
      op.ttl,
      unless ? (value) => !unless(value, ...args) : undefined,
    );
  } catch (error) {
    if (!bypassed(registry, ns, info, 'getOrSet', error, key === undefined ? undefined : [key], undefined)) throw error;
    return info.original.apply(self, args);
  }
}

async function evict(registry: CacheRegistry, info: CachedMethod, op: EvictOperation, args: unknown[]): Promise<void> {
  const ns = namespaceOf(registry, op);
  if (op.allEntries) await tolerate(registry, ns, info, 'clear', () => ({ keys: [], work: () => ns.clear() }));
  for (const builder of op.keys) {
    await tolerate(registry, ns, info, 'invalidate', () => ({ keys: [builder(args)], work: (keys) => ns.invalidate(keys[0]) }));
  }
  for (const builder of op.tags) {
    await tolerate(registry, ns, info, 'invalidateTag', () => {
      const tag = builder(args);
      return { keys: [], tags: [tag], work: () => ns.invalidateTag(tag) };
    });
  }
}

/**
 * With RBAC on or a scoped namespace, refuses a call before the method runs when one of its cache
 * operations would be refused (the permission, and a scoped namespace's principal rules: no
 * anonymous caller, a tenant where scoped per tenant), so that a denied `@CachePut` or `@CacheEvict`
 * never leaves the method's side effect done behind a 403.
 */
function precheck(registry: CacheRegistry, operations: readonly CacheOperation[]): void {
  for (const op of operations) {
    const namespace = namespaceOf(registry, op);
    const checked: CheckedOperation[] = [];
    if (op.kind === 'Cacheable') checked.push('getOrSet');
    else if (op.kind === 'CachePut') checked.push('set');
    else if (op.kind === 'CacheEvict') {
      if (op.allEntries) checked.push('clear');
      if (op.keys.length > 0) checked.push('invalidate');
      if (op.tags.length > 0) checked.push('invalidateTag');
    }
    for (const operation of checked) namespace.checkAccess(operation);
  }
}

function tagsOf(op: CachingOperation, args: unknown[]): string[] | undefined {
  return op.tags.length === 0 ? undefined : op.tags.map((tag) => tag(args));
}

/** One cache operation of a decorated call: the keys and tags it builds from the arguments, then the work on them. */
type DecoratedWork = () => {
  keys: readonly string[];
  tags?: readonly string[];
  work: (keys: readonly string[], tags: readonly string[] | undefined) => Promise<unknown>;
};

/**
 * A cache that is down must not fail the method: log and go on. Neither may a key or tag that the
 * call's arguments made invalid or could not make (see `bypassed`). Anything else is a bug to surface.
 */
async function tolerate(
  registry: CacheRegistry,
  ns: CacheNamespace,
  info: CachedMethod,
  operation: CheckedOperation,
  build: DecoratedWork,
): Promise<void> {
  let keys: readonly string[] | undefined;
  let tags: readonly string[] | undefined;
  try {
    const planned = build();
    ({ keys, tags } = planned);
    await planned.work(planned.keys, planned.tags);
  } catch (error) {
    if (error instanceof BackendUnavailableError) {
      logger.warn(`${info.className}.${info.methodName}: cache unavailable, continuing without it (${describeError(error)})`);
      return;
    }
    if (!bypassed(registry, ns, info, operation, error, keys, tags)) throw error;
  }
}

/** What a decorated call does instead of an operation whose key or tag is invalid. */
const BYPASS_OUTCOME: Partial<Record<CheckedOperation, string>> = {
  getOrSet: 'uncached',
  set: 'not-stored',
  invalidate: 'nothing-to-evict',
  invalidateTag: 'nothing-to-evict',
};
const BYPASS_LOG_INTERVAL_MS = 10_000;
/** Per app, method and operation: when a bypass was last logged, and how many were held back since. */
const bypassLogs = new WeakMap<CacheRegistry, Map<string, { loggedAt: number; suppressed: number }>>();

/**
 * Whether `error` is an `InvalidKeyError` for one of the keys or tags this call built from its
 * arguments (too long, control or invisible characters…): then the operation is skipped and the
 * method goes on without the cache: a lookup runs the method uncached, a store does not store, an
 * eviction evicts nothing (no entry can be stored under a key or tag the rules refuse, so there is
 * nothing to remove). Counted in `stats().invalidKeyBypasses` and logged (at most one line per method
 * and operation every 10 s) without the key. An access denial is never bypassed: the namespace checks
 * the caller's access to the operation first.
 */
function bypassed(
  registry: CacheRegistry,
  ns: CacheNamespace,
  info: CachedMethod,
  operation: CheckedOperation,
  error: unknown,
  /** Undefined: the call's arguments could not make them (`KeyArgumentError`). */
  keys: readonly string[] | undefined,
  tags: readonly string[] | undefined,
): boolean {
  if (error instanceof KeyArgumentError) ns.bypassesInvalidKey(operation, undefined, undefined);
  else if (!(error instanceof InvalidKeyError) || keys === undefined || !ns.bypassesInvalidKey(operation, keys, tags)) return false;
  let logs = bypassLogs.get(registry);
  if (logs === undefined) bypassLogs.set(registry, (logs = new Map()));
  const id = `${info.className}.${info.methodName}|${ns.name}|${operation}`;
  const now = Date.now();
  const state = logs.get(id);
  if (state !== undefined && now - state.loggedAt < BYPASS_LOG_INTERVAL_MS) {
    state.suppressed++;
    return true;
  }
  logger.warn(logLine('cache.invalidKey', {
    namespace: ns.name,
    method: `${info.className}.${info.methodName}`,
    operation,
    outcome: BYPASS_OUTCOME[operation],
    what: error instanceof InvalidKeyError ? error.what : 'key',
    reason: error instanceof InvalidKeyError ? error.code : 'CACHE_KEY_ARGUMENT',
    suppressed: state?.suppressed || undefined,
  }));
  logs.set(id, { loggedAt: now, suppressed: 0 });
  return true;
}

function namespaceOf(registry: CacheRegistry, op: CacheOperation): CacheNamespace {
  return registry.namespace(op.namespace ?? registry.defaultNamespace);
}
