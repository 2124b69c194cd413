import { BackendUnavailableError } from '../../errors/backend-unavailable.error';
import { TagsUnsupportedError } from '../../errors/tags-unsupported.error';
import { BackendEntry, CacheBackend, OversizedPayload } from '../cache-backend.interface';
import { overByteLimit } from '../../serialization/over-byte-limit';
import { ScriptedClient, ScriptedPipeline } from './redis-scripts';
import { isCluster, mgetAcrossSlots, readAcrossSlots, readyClient, scanEveryMaster, unlinkAcrossSlots } from './topology/cluster-commands';
import { groupBySlot, prefixPinsSlot } from './topology/key-slot';
import { asConnectionSource, CommandConnectionSource } from './topology/redis-connection-pool';

const SCAN_BATCH = 500;
/** MULTI retries on TRYAGAIN (a slot migration in progress): 50 × 100 ms, like ioredis's own redirection budget. */
const TRYAGAIN_ATTEMPTS = 50;
const TRYAGAIN_DELAY_MS = 100;
/** Tag sets live beside the entries, after a control character no entry key can start with. */
const TAG_MARK = '\u001ftag:';
// Characters with a meaning in SCAN MATCH patterns.
const GLOB_SPECIAL = /[*?[\]\\]/g;

/**
 * One namespace on a shared ioredis client. Every key is `keyPrefix + key`, so namespaces on one
 * Redis cannot address each other's entries, and clearing a namespace SCANs only its prefix
 * (never KEYS, which blocks the server). Values are the codec's payloads (strings, or Buffers: below); TTLs use PX.
 * Tags: each tag is a set of entry keys at `keyPrefix + "\x1ftag:" + tag`, written together with the
 * entry by one Lua script and invalidated by another. A tag an entry carried in an earlier version
 * stays on it until invalidated or expired: over-invalidation, never a stale read.
 * Cluster: the default prefix `{namespace}:` is a hash tag, so a namespace's entries and tag sets
 * share one slot and every script and MULTI stays in it; bulk commands are split by slot anyway (a
 * custom prefix without braces), `clear` scans every master.
 * Bounded reads: with `maxPayloadBytes` (the namespace's limit on a stored payload), a huge value
 * planted under a namespace key is never sent whole: a batch first deletes, unread, every entry over
 * the limit (STRLEN in a Lua script) and answers it as an `OversizedPayload`; a single get reads at
 * most one byte past the limit (GETRANGE).
 * Binary payloads (`binary`: the namespace's `payloadFormat` is `'binary'`): values are written as
 * the codec's Buffers and read with the `…Buffer` commands (GETRANGE, MGET, the scripts), so sealed
 * and compressed bytes are never base64-encoded; payloads of the earlier text format come back as
 * bytes too and the codec reads them as text.
 */
export class RedisBackend implements CacheBackend {
  readonly name = 'redis';
  readonly storesLiveValues = false;
  readonly storesBytes: boolean;
  /** Gets issued in the same tick, sent as one MGET (see `get`). */
  private batch: GetBatch | null = null;
  /** MGET needs every key in one Cluster slot: only prefixes with a `{hash tag}` guarantee it. */
  private readonly batchable: boolean;
  private readonly connections: CommandConnectionSource;

  constructor(
    connection: ScriptedClient | CommandConnectionSource,
    private readonly keyPrefix: string,
    private readonly namespace: string,
    /** The largest payload a read returns, in bytes (`BackendContext.maxPayloadBytes`); 0 = any (plain GET/MGET). */
    private readonly maxPayloadBytes = 0,
    /** Reads answer Buffers (binary payloads); strings otherwise. */
    private readonly binary = false,
  ) {
    this.storesBytes = binary;
    this.connections = asConnectionSource(connection);
    this.batchable = prefixPinsSlot(keyPrefix);
  }

  /** The pool's next command connection (round-robin when the pool has several); throws while a Cluster is not ready. */
  private get client(): ScriptedClient {
    return readyClient(this.connections.next());
  }

  /** `client` outside `run`: the same refusal, as the operation's `BackendUnavailableError`. */
  private clientFor(operation: string): ScriptedClient {
    try {
      return this.client;
    } catch (error) {
      throw new BackendUnavailableError(this.name, this.namespace, operation, error);
    }
  }

  /**
   * Concurrent gets of one tick (e.g. 64 requests in flight) are coalesced into one MGET round trip:
   * at high concurrency a Node Redis client is bound by its own per-command CPU, not by Redis.
   */
  get(key: string): Promise<Payload | OversizedPayload | undefined> {
    if (!this.batchable) return this.getOne(this.keyPrefix + key);
    let batch = this.batch;
    if (batch === null) {
      batch = this.batch = new GetBatch();
      process.nextTick(() => this.flush());
    }
    return batch.add(this.keyPrefix + key);
  }

  /** Atomically reads an entry and resets its TTL to `ttlMs` (sliding expiry), in one Lua script. */
  async getAndRefreshTtl(key: string, ttlMs: number): Promise<Payload | OversizedPayload | undefined> {
    const value = await this.run<Payload | number | null>('get', () => this.binary
      ? this.client.cachekitGetAndRefreshTtlBuffer(1, this.keyPrefix + key, ttlMs, this.maxPayloadBytes)
      : this.client.cachekitGetAndRefreshTtl(1, this.keyPrefix + key, ttlMs, this.maxPayloadBytes));
    return payloadOf(value);
  }

  /**
   * GET, or with a bound GETRANGE 0..limit: at most one byte more than the limit crosses the network,
   * and a value that fills it is answered as oversized (one the namespace wrote never does).
   */
  private async getOne(redisKey: string): Promise<Payload | OversizedPayload | undefined> {
    const limit = this.maxPayloadBytes;
    if (this.binary) {
      if (limit === 0) return (await this.run('get', () => this.client.getBuffer(redisKey))) ?? undefined;
      const bytes = await this.run('get', () => this.client.getrangeBuffer(redisKey, 0, limit));
      if (bytes.length === 0) return undefined;
      return bytes.length > limit ? new OversizedPayload(limit + 1) : bytes;
    }
    if (limit === 0) return (await this.run('get', () => this.client.get(redisKey))) ?? undefined;
    const value = await this.run('get', () => this.client.getrange(redisKey, 0, limit));
    // GETRANGE answers '' for a missing key; the namespace never writes an empty payload.
    if (value === '') return undefined;
    return overByteLimit(value, limit) ? new OversizedPayload(limit + 1) : value;
  }

  /** MGET, of Buffers for binary payloads. */
  private readonly mgetOf = (client: ScriptedClient, redisKeys: string[]): Promise<(Payload | null)[]> =>
    this.binary ? client.mgetBuffer(redisKeys) : client.mget(redisKeys);

  /**
   * MGET of keys in one slot; with a bound, preceded on the same connection by the script that deletes
   * the entries over it (unread), whose sizes then stand in for their values. Both go out in the same
   * tick; a value planted over the limit in between the two is still refused by the namespace.
   */
  private readonly readMany = async (client: ScriptedClient, redisKeys: string[]): Promise<(Payload | number | null)[]> => {
    if (this.maxPayloadBytes === 0) return this.mgetOf(client, redisKeys);
    const [dropped, values] = await Promise.all([
      client.cachekitDropOversized(redisKeys.length, redisKeys, this.maxPayloadBytes),
      this.mgetOf(client, redisKeys),
    ]) as [number[], (Payload | number | null)[]];
    for (let i = 0; i < dropped.length; i += 2) values[dropped[i] - 1] = dropped[i + 1];
    return values;
  };

  private flush(): void {
    const batch = this.batch!;
    this.batch = null;
    if (batch.keys.length === 1) {
      this.getOne(batch.keys[0]).then((v) => batch.resolves[0](v), (e) => batch.rejects[0](e));
      return;
    }
    this.run('get', () => this.readMany(this.client, batch.keys)).then(
      (values) => {
        for (let i = 0; i < values.length; i++) batch.resolves[i](payloadOf(values[i]));
      },
      (error) => {
        for (const reject of batch.rejects) reject(error);
      },
    );
  }

  async set(key: string, value: unknown, ttlMs: number, _size?: number, tags?: readonly string[]): Promise<void> {
    const redisKey = this.keyPrefix + key;
    const payload = value as Payload;
    if (tags !== undefined && tags.length > 0) {
      const client = this.taggingClient('set');
      const tagKeys = tags.map((t) => this.keyPrefix + TAG_MARK + t);
      await this.run('set', () => client.cachekitSetWithTags(1 + tagKeys.length, redisKey, ...tagKeys, payload, ttlMs));
      return;
    }
    await this.run('set', () =>
      ttlMs > 0 ? this.client.set(redisKey, payload, 'PX', ttlMs) : this.client.set(redisKey, payload),
    );
  }

  async invalidateTag(tag: string): Promise<number> {
    const client = this.taggingClient('invalidateTag');
    return this.run('invalidateTag', () => client.cachekitInvalidateTag(1, this.keyPrefix + TAG_MARK + tag));
  }

  async replaceIfUnchanged(key: string, expected: unknown, replacement: unknown): Promise<boolean> {
    const replaced = await this.run('replaceIfUnchanged', () =>
      this.client.cachekitReplaceIfUnchanged(1, this.keyPrefix + key, expected as Payload, replacement as Payload));
    return replaced === 1;
  }

  /**
   * With an `OversizedPayload` (what a bounded read answered), or a value over the limit (one planted
   * between a batch's drop script and its MGET): deletes the entry only if it is still over the limit,
   * without sending the value back to compare it.
   */
  async deleteIfUnchanged(key: string, expected: unknown): Promise<boolean> {
    const redisKey = this.keyPrefix + key;
    const limit = this.maxPayloadBytes;
    const over = typeof expected === 'string' ? overByteLimit(expected, limit) : Buffer.isBuffer(expected) && expected.length > limit;
    if (expected instanceof OversizedPayload || (limit > 0 && over)) {
      return (await this.run('deleteIfUnchanged', () => this.client.cachekitDeleteIfOversized(1, redisKey, this.maxPayloadBytes))) === 1;
    }
    return (await this.run('deleteIfUnchanged', () => this.client.cachekitDeleteIfUnchanged(1, redisKey, expected as Payload))) === 1;
  }

  async delete(key: string): Promise<boolean> {
    return (await this.run('delete', () => this.client.del(this.keyPrefix + key))) > 0;
  }

  async has(key: string): Promise<boolean> {
    return (await this.run('has', () => this.client.exists(this.keyPrefix + key))) > 0;
  }

  async mget(keys: readonly string[]): Promise<(Payload | OversizedPayload | undefined)[]> {
    if (keys.length === 0) return [];
    const redisKeys = keys.map((k) => this.keyPrefix + k);
    const values = await this.run('mget', () =>
      this.maxPayloadBytes === 0 && !this.binary ? mgetAcrossSlots(this.client, redisKeys) : readAcrossSlots(this.client, redisKeys, this.readMany));
    return values.map(payloadOf);
  }

  /**
   * One MULTI/EXEC round trip: either every entry is written or none is. On a Cluster, one MULTI per
   * slot, sent in parallel (all or nothing per slot; a namespace with the default prefix is one slot).
   */
  async mset(entries: readonly BackendEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const client = this.clientFor('mset');
    if (isCluster(client) && !prefixPinsSlot(this.keyPrefix)) {
      if (entries.some((e) => e.tags !== undefined && e.tags.length > 0)) this.taggingClient('mset');
      const groups = groupBySlot(entries.map((e) => this.keyPrefix + e.key));
      if (groups.length > 1) {
        await Promise.all(groups.map((group) => this.mset(group.map((i) => entries[i]))));
        return;
      }
    }
    // During a slot migration a MULTI whose keys are split between the two nodes is refused. ioredis
    // retries it when every queued command got the same redirection, but when they differ (some ASK,
    // some TRYAGAIN) EXEC fails with EXECABORT and the redirections only in `previousErrors`: nothing
    // was written, so it is safe to send again, after a pause for the migration to move on.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.msetOnce(client, entries);
        return;
      } catch (error) {
        if (!isCluster(client) || attempt >= TRYAGAIN_ATTEMPTS || !refusedDuringMigration(error)) throw error;
        await new Promise((resolve) => setTimeout(resolve, TRYAGAIN_DELAY_MS));
      }
    }
  }

  private async msetOnce(client: ScriptedClient, entries: readonly BackendEntry[]): Promise<void> {
    const results = await this.run('mset', () => {
      const tx = client.multi() as ScriptedPipeline;
      for (const e of entries) {
        const redisKey = this.keyPrefix + e.key;
        if (e.tags !== undefined && e.tags.length > 0) {
          const tagKeys = e.tags.map((t) => this.keyPrefix + TAG_MARK + t);
          tx.cachekitSetWithTags(1 + tagKeys.length, redisKey, ...tagKeys, e.value as Payload, e.ttlMs);
        } else if (e.ttlMs > 0) tx.set(redisKey, e.value as Payload, 'PX', e.ttlMs);
        else tx.set(redisKey, e.value as Payload);
      }
      return tx.exec();
    });
    const failed = results?.find(([error]) => error);
    if (!results || failed) throw new BackendUnavailableError(this.name, this.namespace, 'mset', failed?.[0] ?? 'transaction aborted');
  }

  /**
   * SCAN + UNLINK in batches (tag sets included, but not counted), on every master of a Cluster.
   * Not atomic: an entry written during the clear may survive it.
   */
  async clear(): Promise<number> {
    const pattern = this.keyPrefix.replace(GLOB_SPECIAL, '\\$&') + '*';
    const client = this.clientFor('clear');
    let removed = 0;
    await this.run('clear', () => scanEveryMaster(client, pattern, SCAN_BATCH, async (keys) => {
      await unlinkAcrossSlots(client, keys);
      // Tag sets and locks (both after a control character) are not entries.
      removed += keys.filter((k) => k.charCodeAt(this.keyPrefix.length) !== 0x1f).length;
    }));
    return removed;
  }

  /**
   * The connection for a tag script. On a Cluster the entry and its tag sets must share a slot,
   * which only a prefix with a `{hash tag}` (the default `{namespace}:`) guarantees.
   */
  private taggingClient(operation: string): ScriptedClient {
    const client = this.clientFor(operation);
    if (isCluster(client) && !prefixPinsSlot(this.keyPrefix)) {
      throw new TagsUnsupportedError(this.namespace, this.name, 'on a Redis Cluster tags need a key prefix with a {hash tag}, e.g. the default "{<namespace>}:"');
    }
    return client;
  }

  private async run<T>(operation: string, command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      if (error instanceof BackendUnavailableError) throw error;
      throw new BackendUnavailableError(this.name, this.namespace, operation, error);
    }
  }
}

/** A transaction refused because its slot is moving (TRYAGAIN, ASK, MOVED), directly or as the reasons of an EXECABORT. */
export function refusedDuringMigration(error: unknown): boolean {
  const cause = (error as { cause?: unknown })?.cause ?? error;
  const messages = [cause, ...((cause as { previousErrors?: unknown[] })?.previousErrors ?? [])]
    .map((e) => String((e as Error)?.message ?? e));
  return messages.some((m) => /^(TRYAGAIN|ASK|MOVED)\b/.test(m));
}

/** What the namespace writes and reads: text, or bytes (binary payloads). */
type Payload = string | Buffer;

/** A read's answer for one key: the payload, a miss, or (an integer from the bounded script) the size of a value over the limit. */
function payloadOf(value: Payload | number | null): Payload | OversizedPayload | undefined {
  if (value === null) return undefined;
  return typeof value === 'number' ? new OversizedPayload(value) : value;
}

class GetBatch {
  readonly keys: string[] = [];
  readonly resolves: ((value: Payload | OversizedPayload | undefined) => void)[] = [];
  readonly rejects: ((error: unknown) => void)[] = [];

  add(redisKey: string): Promise<Payload | OversizedPayload | undefined> {
    return new Promise((resolve, reject) => {
      this.keys.push(redisKey);
      this.resolves.push(resolve);
      this.rejects.push(reject);
    });
  }
}
