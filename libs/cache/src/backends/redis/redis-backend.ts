import { BackendUnavailableError } from '../../errors/backend-unavailable.error';
import { BackendEntry, CacheBackend } from '../cache-backend.interface';
import { ScriptedPipeline, ScriptedRedis } from './redis-scripts';

const SCAN_BATCH = 500;
/** Tag sets live beside the entries, after a control character no entry key can start with. */
const TAG_MARK = '\u001ftag:';
// Characters with a meaning in SCAN MATCH patterns.
const GLOB_SPECIAL = /[*?[\]\\]/g;

/**
 * One namespace on a shared ioredis client. Every key is `keyPrefix + key`, so namespaces on one
 * Redis cannot address each other's entries, and clearing a namespace SCANs only its prefix
 * (never KEYS, which blocks the server). Values are the serializer's strings; TTLs use PX.
 * Tags: each tag is a set of entry keys at `keyPrefix + "\x1ftag:" + tag`, written together with the
 * entry by one Lua script and invalidated by another. A tag an entry carried in an earlier version
 * stays on it until invalidated or expired: over-invalidation, never a stale read.
 */
export class RedisBackend implements CacheBackend {
  readonly name = 'redis';
  readonly storesLiveValues = false;

  constructor(
    private readonly client: ScriptedRedis,
    private readonly keyPrefix: string,
    private readonly namespace: string,
  ) {}

  async get(key: string): Promise<string | undefined> {
    const value = await this.run('get', () => this.client.get(this.keyPrefix + key));
    return value ?? undefined;
  }

  async set(key: string, value: unknown, ttlMs: number, _size?: number, tags?: readonly string[]): Promise<void> {
    const redisKey = this.keyPrefix + key;
    const payload = value as string;
    if (tags !== undefined && tags.length > 0) {
      const tagKeys = tags.map((t) => this.keyPrefix + TAG_MARK + t);
      await this.run('set', () => this.client.cachekitSetWithTags(1 + tagKeys.length, redisKey, ...tagKeys, payload, ttlMs));
      return;
    }
    await this.run('set', () =>
      ttlMs > 0 ? this.client.set(redisKey, payload, 'PX', ttlMs) : this.client.set(redisKey, payload),
    );
  }

  async invalidateTag(tag: string): Promise<number> {
    return this.run('invalidateTag', () => this.client.cachekitInvalidateTag(1, this.keyPrefix + TAG_MARK + tag));
  }

  async replaceIfUnchanged(key: string, expected: unknown, replacement: unknown): Promise<boolean> {
    const replaced = await this.run('replaceIfUnchanged', () =>
      this.client.cachekitReplaceIfUnchanged(1, this.keyPrefix + key, expected as string, replacement as string));
    return replaced === 1;
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
      const tx = this.client.multi() as ScriptedPipeline;
      for (const e of entries) {
        const redisKey = this.keyPrefix + e.key;
        if (e.tags !== undefined && e.tags.length > 0) {
          const tagKeys = e.tags.map((t) => this.keyPrefix + TAG_MARK + t);
          tx.cachekitSetWithTags(1 + tagKeys.length, redisKey, ...tagKeys, e.value as string, e.ttlMs);
        } else if (e.ttlMs > 0) tx.set(redisKey, e.value as string, 'PX', e.ttlMs);
        else tx.set(redisKey, e.value as string);
      }
      return tx.exec();
    });
    const failed = results?.find(([error]) => error);
    if (!results || failed) throw new BackendUnavailableError(this.name, this.namespace, 'mset', failed?.[0] ?? 'transaction aborted');
  }

  /** SCAN + UNLINK in batches (tag sets included, but not counted). Not atomic: an entry written during the clear may survive it. */
  async clear(): Promise<number> {
    const pattern = this.keyPrefix.replace(GLOB_SPECIAL, '\\$&') + '*';
    let cursor = '0';
    let removed = 0;
    do {
      const [next, keys] = await this.run('clear', () =>
        this.client.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_BATCH),
      );
      cursor = next;
      if (keys.length > 0) {
        await this.run('clear', () => this.client.unlink(...keys));
        removed += keys.filter((k) => !k.startsWith(TAG_MARK, this.keyPrefix.length)).length;
      }
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
