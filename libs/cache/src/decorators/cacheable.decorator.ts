import { CacheableOptions } from './cache-decorator-options';
import { compileKey } from './cache-key';
import { addCacheOperation } from './cached-method';

/**
 * Caches the method's result under a key built from its arguments; a hit skips the call. Works on
 * any provider managed by Nest (services, repositories, controllers). Concurrent calls for one missing
 * key run the method once; its errors are not cached. Async methods (declared `async` or returning
 * `Promise<…>`) work on every backend; synchronous ones need a memory namespace.
 */
export function Cacheable(options: CacheableOptions = {}): MethodDecorator {
  return (target, propertyKey, descriptor) =>
    addCacheOperation(target, propertyKey, descriptor, 'Cacheable', (method) => ({
      kind: 'Cacheable',
      namespace: options.namespace,
      ttl: options.ttl,
      key: compileKey(options.key, method, 'Cacheable'),
      tags: (options.tags ?? []).map((tag) => compileKey(tag, method, 'Cacheable')),
      condition: options.condition,
      unless: options.unless,
    }));
}
