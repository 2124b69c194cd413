import { Injectable } from '@nestjs/common';
import { CacheRegistry } from './cache-registry';
import { CacheEvents } from './events/cache-events';
import { CacheEntryInput, CacheNamespace, GetOrSetOptions, SetOptions } from './namespace/cache-namespace';
import { NamespaceStats } from './observability/namespace-stats';
import { CachePrincipal } from './access/cache-principal';

/**
 * What apps inject. Key operations act on the default namespace; `namespace(name)` gives the cache of
 * another one (or inject it directly with `@InjectCache(name)`).
 */
@Injectable()
export class CacheService {
  private readonly main: CacheNamespace;
  /** Typed hooks: `set`, `invalidate`, `tagInvalidated`, `namespaceCleared`, `evicted`, `expired`. */
  readonly events: CacheEvents;

  constructor(private readonly registry: CacheRegistry) {
    this.main = registry.namespace(registry.defaultNamespace);
    this.events = registry.events;
  }

  /** Resolves the value, or `undefined` on a miss (a stored `null` resolves `null`). */
  get<T = unknown>(key: string): Promise<T | undefined> {
    return this.main.get<T>(key);
  }

  set<T = unknown>(key: string, value: T, options?: SetOptions): Promise<void> {
    return this.main.set<T>(key, value, options);
  }

  has(key: string): Promise<boolean> {
    return this.main.has(key);
  }

  /** Removes the entry; resolves `true` when there was one. */
  invalidate(key: string): Promise<boolean> {
    return this.main.invalidate(key);
  }

  getOrSet<T = unknown>(key: string, loader: () => T | Promise<T>, options?: GetOrSetOptions<T>): Promise<T> {
    return this.main.getOrSet<T>(key, loader, options);
  }

  mget<T = unknown>(keys: readonly string[]): Promise<(T | undefined)[]> {
    return this.main.mget<T>(keys);
  }

  mset<T = unknown>(entries: readonly CacheEntryInput<T>[]): Promise<void> {
    return this.main.mset<T>(entries);
  }

  /** The cache of a configured namespace; throws `UnknownNamespaceError` for any other name. */
  namespace<V = unknown>(name: string): CacheNamespace<V> {
    return this.registry.namespace<V>(name);
  }

  /** Removes every entry carrying `tag` in a namespace (the default one when left out); resolves how many. */
  async invalidateTag(tag: string, namespace?: string): Promise<number> {
    return this.registry.namespace(namespace ?? this.registry.defaultNamespace).invalidateTag(tag);
  }

  /** Removes every entry of a namespace (the default one when left out); resolves how many were removed. */
  async invalidateNamespace(name?: string): Promise<number> {
    return this.registry.namespace(name ?? this.registry.defaultNamespace).clear();
  }

  /**
   * Runs `fn` (and everything it awaits, and the timers and callbacks it starts) as the system
   * principal (`rbac.system`): for work the app does on its own behalf, such as an `onModuleInit` or
   * `onApplicationBootstrap` hook that fills a cache, a scheduled job or a queue consumer. A cache call
   * outside any request or `runAs` is anonymous (`rbac.unscopedPrincipal`), never the system.
   */
  runAsSystem<T>(fn: () => T): T {
    return this.registry.access.runAsSystem(fn);
  }

  /** Runs `fn` (and everything it awaits) as `principal` (e.g. the user of a queued job). */
  runAs<T>(principal: CachePrincipal, fn: () => T): T {
    return this.registry.access.runAs(principal, fn);
  }

  namespaces(): string[] {
    return this.registry.names();
  }

  stats(): NamespaceStats[] {
    return this.registry.names().map((name) => this.registry.namespace(name).stats());
  }
}
