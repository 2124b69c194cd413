import { CachePutOptions } from './cache-decorator-options';
import { compileKey } from './cache-key';
import { addCacheOperation } from './cached-method';

/** Always runs the method and stores its result under the key (a write-through refresh). */
export function CachePut(options: CachePutOptions = {}): MethodDecorator {
  return (target, propertyKey, descriptor) =>
    addCacheOperation(target, propertyKey, descriptor, 'CachePut', (method) => ({
      kind: 'CachePut',
      namespace: options.namespace,
      ttl: options.ttl,
      key: compileKey(options.key, method, 'CachePut'),
      tags: (options.tags ?? []).map((tag) => compileKey(tag, method, 'CachePut')),
      condition: options.condition,
      unless: options.unless,
    }));
}
