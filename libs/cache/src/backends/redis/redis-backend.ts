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
  /** Gets issued in the same tick, sent as one MGET (see `get`). */
  private batch: GetBatch | null = null;
  /** MGET needs every key in one Cluster slot: only prefixes with a `{hash tag}` guarantee it. */
  private readonly batchable: boolean;

  constructor(
    private readonly client: ScriptedRedis,
    private readonly keyPrefix: string,
    private readonly namespace: string,
  ) {
    this.batchable = /\{[^}]+\}/.test(keyPrefix);
  }

  /**
   * Concurrent gets of one tick (e.g. 64 requests in flight) are coalesced into one MGET round trip:
   * at high concurrency a Node Redis client is bound by its own per-command CPU, not by Redis.
   */
  get(key: string): Promise<string | undefined> {
    if (!this.batchable) return this.getOne(this.keyPrefix + key);
    let batch = this.batch;
    if (batch === null) {
      batch = this.batch = new GetBatch();
      process.nextTick(() => this.flush());
    }
    return batch.add(this.keyPrefix + key);
  }

  /** Atomically reads an entry and resets its TTL to `ttlMs` (sliding expiry), in one Lua script. */
  async getAndRefreshTtl(key: string, ttlMs: number): Promise<string | undefined> {
    const value = await this.run('get', () => this.client.cachekitGetAndRefreshTtl(1, this.keyPrefix + key, ttlMs));
    return value ?? undefined;
  }

  private async getOne(redisKey: string): Promise<string | undefined> {
    const value = await this.run('get', () => this.client.get(redisKey));
    return value ?? undefined;
  }

  private flush(): void {
    const batch = this.batch!;
    this.batch = null;
    if (batch.keys.length === 1) {
      this.getOne(batch.keys[0]).then((v) => batch.resolves[0](v), (e) => batch.rejects[0](e));
      return;
    }
    this.run('get', () => this.client.mget(batch.keys)).then(
      (values) => {
        for (let i = 0; i < values.length; i++) batch.resolves[i](values[i] ?? undefined);
      },
      (error) => {
        for (const reject of batch.rejects) reject(error);
      },
    );
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
        // Tag sets and locks (both after a control character) are not entries.
        removed += keys.filter((k) => k.charCodeAt(this.keyPrefix.length) !== 0x1f).length;
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

class GetBatch {
  readonly keys: string[] = [];
  readonly resolves: ((value: string | undefined) => void)[] = [];
  readonly rejects: ((error: unknown) => void)[] = [];

  add(redisKey: string): Promise<string | undefined> {
    return new Promise((resolve, reject) => {
      this.keys.push(redisKey);
      this.resolves.push(resolve);
      this.rejects.push(reject);
    });
  }
}
