import { Logger } from '@nestjs/common';
import { BackendUnavailableError } from '../errors/backend-unavailable.error';
import type { CacheRegistry } from '../cache-registry';
import { CacheNamespace } from '../namespace/cache-namespace';
import { Ttl } from '../ttl/parse-ttl';
import type { CacheOperation as CheckedOperation } from '../security/rbac/cache-permission';
import { CacheDecoratorError, KeyBuilder, MethodRef } from './cache-key';
import { methodParameterNames } from './method-parameters';
import { describeError } from '../logging/error-fields';

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
    const { unless } = cacheable;
    result = await namespaceOf(registry, cacheable).getOrSet(cacheable.key(args), () => info.original.apply(self, args), {
      ttl: cacheable.ttl,
      tags: tagsOf(cacheable, args),
      cacheIf: unless ? (value: unknown) => !unless(value, ...args) : undefined,
    });
  } else {
    result = await info.original.apply(self, args);
  }
  for (const op of info.operations) {
    if (!applies(op)) continue;
    if (op.kind === 'CachePut' && result !== undefined && !op.unless?.(result, ...args)) {
      await tolerate(info, namespaceOf(registry, op).set(op.key(args), result, { ttl: op.ttl, tags: tagsOf(op, args) }));
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
  return namespaceOf(registry, op).getOrSetSync(
    op.key(args),
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
}

async function evict(registry: CacheRegistry, info: CachedMethod, op: EvictOperation, args: unknown[]): Promise<void> {
  const ns = namespaceOf(registry, op);
  if (op.allEntries) await tolerate(info, ns.clear());
  for (const key of op.keys) await tolerate(info, ns.invalidate(key(args)));
  for (const tag of op.tags) await tolerate(info, ns.invalidateTag(tag(args)));
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

/** A cache that is down must not fail the method: log and go on. Anything else is a bug to surface. */
async function tolerate(info: CachedMethod, operation: Promise<unknown>): Promise<void> {
  try {
    await operation;
  } catch (error) {
    if (!(error instanceof BackendUnavailableError)) throw error;
    logger.warn(`${info.className}.${info.methodName}: cache unavailable, continuing without it (${describeError(error)})`);
  }
}

function namespaceOf(registry: CacheRegistry, op: CacheOperation): CacheNamespace {
  return registry.namespace(op.namespace ?? registry.defaultNamespace);
}
