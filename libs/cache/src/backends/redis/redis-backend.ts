import type Redis from 'ioredis';
import { BackendUnavailableError } from '../../errors/backend-unavailable.error';
import { BackendEntry, CacheBackend } from '../cache-backend.interface';

const SCAN_BATCH = 500;
// Characters with a meaning in SCAN MATCH patterns.
const GLOB_SPECIAL = /[*?[\]\\]/g;

/**
 * One namespace on a shared ioredis client. Every key is `keyPrefix + key`, so namespaces on one
 * Redis cannot address each other's entries, and clearing a namespace SCANs only its prefix
 * (never KEYS, which blocks the server). Values are the serializer's strings; TTLs use PX.
 */
export class RedisBackend implements CacheBackend {
  readonly name = 'redis';
  readonly storesLiveValues = false;

  constructor(
    private readonly client: Redis,
    private readonly keyPrefix: string,
    private readonly namespace: string,
  ) {}

  async get(key: string): Promise<string | undefined> {
    const value = await this.run('get', () => this.client.get(this.keyPrefix + key));
    return value ?? undefined;
  }

  async set(key: string, value: unknown, ttlMs: number): Promise<void> {
    const redisKey = this.keyPrefix + key;
    const payload = value as string;
    await this.run('set', () =>
      ttlMs > 0 ? this.client.set(redisKey, payload, 'PX', ttlMs) : this.client.set(redisKey, payload),
    );
  }

  async delete(key: string): Promise<boolean> {
    return (await this.run('delete', () => this.client.del(this.keyPrefix + key))) > 0;
  }

  async has(key: string): Promise<boolean> {
    return (await this.run('has', () => this.client.exists(this.keyPrefix + key))) > 0;
  }

  async mget(keys: readonly string[]): Promise<(string | undefined)[]> {
    if (keys.length === 0) return [];
    const values = await this.run('mget', () => this.client.mget(keys.map((k) => this.keyPrefix + k)));
    return values.map((v) => v ?? undefined);
  }

  /** One MULTI/EXEC round trip: either every entry is written or none is. */
  async mset(entries: readonly BackendEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const results = await this.run('mset', () => {
      const tx = this.client.multi();
      for (const e of entries) {
        const redisKey = this.keyPrefix + e.key;
        if (e.ttlMs > 0) tx.set(redisKey, e.value as string, 'PX', e.ttlMs);
        else tx.set(redisKey, e.value as string);
      }
      return tx.exec();
    });
    const failed = results?.find(([error]) => error);
    if (!results || failed) throw new BackendUnavailableError(this.name, this.namespace, 'mset', failed?.[0] ?? 'transaction aborted');
  }

  /** SCAN + UNLINK in batches. Not atomic: an entry written during the clear may survive it. */
  async clear(): Promise<number> {
    const pattern = this.keyPrefix.replace(GLOB_SPECIAL, '\\$&') + '*';
    let cursor = '0';
    let removed = 0;
    do {
      const [next, keys] = await this.run('clear', () =>
        this.client.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_BATCH),
      );
      cursor = next;
      if (keys.length > 0) removed += await this.run('clear', () => this.client.unlink(...keys));
    } while (cursor !== '0');
    return removed;
  }

  private async run<T>(operation: string, command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw new BackendUnavailableError(this.name, this.namespace, operation, error);
    }
  }
}
