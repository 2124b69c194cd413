import { StoredKey } from '../keys/namespace-keys';
import { NamespaceStore } from '../store/namespace-store';
import { NamespaceCounters, PathContext } from './path-context';

/**
 * How a namespace reads, picked once at construction from its store (as bentocache picks its
 * single- or two-tier handler): this class on an asynchronous store (Redis, a custom backend),
 * `MemoryPath` on a synchronous live one, `TwoTierPath` on tiers. A path answers `get` past the
 * observer, counted lookups of stored keys, and how a `getOrSet` miss loads (here: directly).
 */
export class ReadPath {
  protected readonly counters: NamespaceCounters;

  constructor(protected readonly store: NamespaceStore, protected readonly context: PathContext) {
    this.counters = context.counters;
  }

  /** `get` past the observer: the access check, then the lookup. Not async: a synchronous hit stays one resolved promise. */
  get(key: string): Promise<unknown> {
    let stored: StoredKey;
    try {
      stored = this.context.access.key('get', key);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.lookup(stored);
  }

  /** A lookup of a stored (checked, canonical, scoped) key, counted as a hit or a miss. */
  async lookup(key: StoredKey): Promise<unknown> {
    let value: unknown;
    try {
      value = await this.store.get(key);
    } catch (error) {
      throw this.context.fail('get', error);
    }
    if (value === undefined) this.counters.misses++;
    else this.counters.hits++;
    return value;
  }

  /** A `getOrSet` hit whose entry should be reloaded in the background (two tiers with `earlyRefresh`). */
  refreshDue(_key: StoredKey): boolean {
    return false;
  }

  /** A `getOrSet` miss: `store` runs the loader and stores its value. */
  load<T>(_key: StoredKey, store: () => Promise<T>): Promise<T> {
    return store();
  }

  /** An early refresh (see `refreshDue`); `undefined` when another instance is refreshing. */
  refresh<T>(_key: StoredKey, store: () => Promise<T>): Promise<T | undefined> {
    return store();
  }
}
