import { BackendUnavailableError } from '../errors/backend-unavailable.error';
import { BackendContext, BackendEntry, CacheBackend, CacheBackendFactory } from '../backends/cache-backend.interface';
import { CacheManagerStore } from './cache-manager-store.interface';
import { InvalidArgumentError } from '../errors/invalid-argument.error';

// Characters with a meaning in glob patterns (Redis KEYS/SCAN MATCH, and most stores' keys()).
const GLOB_SPECIAL = /[*?[\]\\]/g;
const DELETE_BATCH = 500;

/**
 * One namespace on an existing cache-manager store. Keys are `keyPrefix + key`, values are the
 * namespace serializer's strings (the store only carries them), TTLs are passed in milliseconds.
 * What the store's interface cannot give is documented, not faked: `delete` reads before deleting
 * to report whether there was an entry, `mset` is atomic only within one TTL group where the store's
 * `mset` is, `clear()` needs the store's `keys()`, and tags are not supported.
 */
export class CacheManagerStoreBackend implements CacheBackend {
  readonly storesLiveValues = false;

  constructor(
    readonly name: string,
    private readonly store: CacheManagerStore,
    private readonly keyPrefix: string,
    private readonly namespace: string,
  ) {}

  async get(key: string): Promise<unknown> {
    return (await this.run('get', () => this.store.get(this.keyPrefix + key))) ?? undefined;
  }

  async set(key: string, value: unknown, ttlMs: number): Promise<void> {
    await this.run('set', () => this.store.set(this.keyPrefix + key, value, ttlMs));
  }

  async delete(key: string): Promise<boolean> {
    const existed = (await this.get(key)) !== undefined;
    await this.run('delete', () => this.store.del(this.keyPrefix + key));
    return existed;
  }

  async has(key: string): Promise<boolean> {
    return (await this.get(key)) !== undefined;
  }

  async mget(keys: readonly string[]): Promise<unknown[]> {
    if (keys.length === 0) return [];
    const store = this.store;
    const full = keys.map((k) => this.keyPrefix + k);
    const values = await this.run('mget', () =>
      store.mget ? store.mget(...full) : Promise.all(full.map((k) => store.get(k))),
    );
    return values.map((v) => v ?? undefined);
  }

  async mset(entries: readonly BackendEntry[]): Promise<void> {
    const byTtl = new Map<number, [string, unknown][]>();
    for (const e of entries) {
      let group = byTtl.get(e.ttlMs);
      if (group === undefined) byTtl.set(e.ttlMs, (group = []));
      group.push([this.keyPrefix + e.key, e.value]);
    }
    const store = this.store;
    for (const [ttlMs, pairs] of byTtl) {
      await this.run('mset', () =>
        store.mset ? store.mset(pairs, ttlMs) : Promise.all(pairs.map(([k, v]) => store.set(k, v, ttlMs))),
      );
    }
  }

  async clear(): Promise<number> {
    const store = this.store;
    if (typeof store.keys !== 'function') {
      throw new BackendUnavailableError(this.name, this.namespace, 'clear', new Error('the cache-manager store has no keys(), so a namespace cannot be cleared'));
    }
    const keys = await this.run('clear', () => store.keys!(this.keyPrefix.replace(GLOB_SPECIAL, '\\$&') + '*'));
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      await this.run('clear', () => (store.mdel ? store.mdel(...batch) : Promise.all(batch.map((k) => store.del(k)))));
    }
    return keys.length;
  }

  private async run<T>(operation: string, command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw new BackendUnavailableError(this.name, this.namespace, operation, error);
    }
  }
}

/**
 * Plugs any cache-manager 4/5 store in as a custom backend:
 *
 * ```ts
 * CacheModule.forRoot({
 *   backends: { legacy: new CacheManagerStoreBackendFactory(await redisStore({ host, port })) },
 *   namespaces: { sessions: { backend: 'legacy' } },
 * })
 * ```
 *
 * The store's own connection is the caller's: `close` runs `onClose` (e.g. `() => store.client.quit()`)
 * when given.
 */
export class CacheManagerStoreBackendFactory implements CacheBackendFactory {
  constructor(
    private readonly store: CacheManagerStore,
    private readonly options: { name?: string; onClose?: () => unknown } = {},
  ) {
    if (store === null || typeof store !== 'object' || ['get', 'set', 'del'].some((m) => typeof (store as never)[m] !== 'function')) {
      throw new InvalidArgumentError('CacheManagerStoreBackendFactory needs a cache-manager store with get(), set() and del()');
    }
  }

  create(context: BackendContext): CacheBackend {
    return new CacheManagerStoreBackend(this.options.name ?? 'cache-manager-store', this.store, context.keyPrefix, context.namespace);
  }

  async close(): Promise<void> {
    await this.options.onClose?.();
  }
}
