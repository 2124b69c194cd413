import type { Type } from '@nestjs/common';
import { CacheBackendFactory } from './cache-backend.interface';
import { MemoryBackendFactory } from './memory/memory-backend.factory';
import { RedisBackendFactory } from './redis/redis-backend.factory';
import { RedisConnectionOptions } from './redis/redis-connection-options';

/** A backend as registered under the module option `backends`: a factory, or a class Nest instantiates with DI. */
export type BackendRegistration = CacheBackendFactory | Type<CacheBackendFactory>;

/** Names only the built-in backends take. */
export const BUILT_IN_BACKENDS = ['memory', 'redis'] as const;
export const isBuiltInBackend = (name: string): boolean => (BUILT_IN_BACKENDS as readonly string[]).includes(name);

/**
 * The built-in backends, registered as an app registers its own under `backends`: a
 * `CacheBackendFactory` by name, with the same lifecycle. `memory` always; `redis` when the module has
 * `redis` connection options (its factory holds no connection until a namespace uses it).
 */
export function builtInBackends(redis: RedisConnectionOptions | undefined): Map<string, BackendRegistration> {
  const backends = new Map<string, BackendRegistration>([['memory', new MemoryBackendFactory()]]);
  if (redis !== undefined) backends.set('redis', new RedisBackendFactory(redis));
  return backends;
}
