import { BackendContext, BackendEntry, CacheBackend, CacheBackendFactory } from '../src/backends/cache-backend.interface';

/**
 * A backend written the way a user would write one: asynchronous, storing serialized strings in a
 * shared Map under the namespace's key prefix. Used to prove that custom backends plug in.
 */
export class MapBackendFactory implements CacheBackendFactory {
  readonly store = new Map<string, { value: string; expiresAt: number }>();
  closed = false;

  create(context: BackendContext): CacheBackend {
    return new MapBackend(this.store, context.keyPrefix);
  }

  close(): void {
    this.closed = true;
  }
}

class MapBackend implements CacheBackend {
  readonly name = 'map';
  readonly storesLiveValues = false;

  constructor(
    private readonly store: Map<string, { value: string; expiresAt: number }>,
    private readonly prefix: string,
  ) {}

  async get(key: string): Promise<string | undefined> {
    const entry = this.store.get(this.prefix + key);
    if (!entry) return undefined;
    if (entry.expiresAt !== 0 && entry.expiresAt <= Date.now()) {
      this.store.delete(this.prefix + key);
      return undefined;
    }
    return entry.value;
  }

  async set(key: string, value: unknown, ttlMs: number): Promise<void> {
    this.store.set(this.prefix + key, { value: value as string, expiresAt: ttlMs > 0 ? Date.now() + ttlMs : 0 });
  }

  async delete(key: string): Promise<boolean> {
    const existed = (await this.get(key)) !== undefined;
    this.store.delete(this.prefix + key);
    return existed;
  }

  async has(key: string): Promise<boolean> {
    return (await this.get(key)) !== undefined;
  }

  async mget(keys: readonly string[]): Promise<unknown[]> {
    return Promise.all(keys.map((k) => this.get(k)));
  }

  async mset(entries: readonly BackendEntry[]): Promise<void> {
    for (const e of entries) await this.set(e.key, e.value, e.ttlMs);
  }

  async clear(): Promise<number> {
    let removed = 0;
    for (const key of [...this.store.keys()]) {
      if (key.startsWith(this.prefix)) removed += this.store.delete(key) ? 1 : 0;
    }
    return removed;
  }
}
