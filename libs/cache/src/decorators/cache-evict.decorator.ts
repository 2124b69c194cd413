import { CacheEvictOptions } from './cache-decorator-options';
import { CacheDecoratorError, compileKey } from './cache-key';
import { addCacheOperation } from './cached-method';

/**
 * Removes entries when the method succeeds (or before it runs, with `beforeInvocation`): the keys
 * given by `key`/`keys`, every entry carrying one of `tags`, or the whole namespace with `allEntries`.
 */
export function CacheEvict(options: CacheEvictOptions): MethodDecorator {
  return (target, propertyKey, descriptor) =>
    addCacheOperation(target, propertyKey, descriptor, 'CacheEvict', (method) => {
      const specs = [...(options?.key !== undefined ? [options.key] : []), ...(options?.keys ?? [])];
      const tags = options?.tags ?? [];
      if (specs.length === 0 && tags.length === 0 && !options?.allEntries) {
        throw new CacheDecoratorError(method, 'CacheEvict', 'give key, keys, tags or allEntries: true');
      }
      if (specs.length > 0 && options.allEntries) {
        throw new CacheDecoratorError(method, 'CacheEvict', 'give either keys or allEntries, not both');
      }
      return {
        kind: 'CacheEvict',
        namespace: options.namespace,
        keys: specs.map((spec) => compileKey(spec, method, 'CacheEvict')),
        tags: tags.map((tag) => compileKey(tag, method, 'CacheEvict')),
        allEntries: options.allEntries === true,
        beforeInvocation: options.beforeInvocation === true,
        condition: options.condition,
      };
    });
}
