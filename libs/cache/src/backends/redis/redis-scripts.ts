import type Redis from 'ioredis';
import type { ChainableCommander, Cluster } from 'ioredis';

/*
 * Lua scripts, loaded with ioredis defineCommand (EVALSHA, falling back to EVAL on NOSCRIPT). Every
 * key a script touches carries the namespace prefix, and with it the namespace's `{hash tag}`, so a
 * script stays within one Cluster slot.
 */

/**
 * KEYS[1] the entry, KEYS[2..] its tag sets; ARGV[1] the value, ARGV[2] the TTL in ms (0 = none).
 * Writes the entry and adds it to each tag set, atomically. A tag set lives as long as its
 * longest-lived member: it is made persistent by a member without TTL, and extended otherwise.
 */
const SET_WITH_TAGS = `
local ttl = tonumber(ARGV[2])
if ttl > 0 then redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl) else redis.call('SET', KEYS[1], ARGV[1]) end
for i = 2, #KEYS do
  redis.call('SADD', KEYS[i], KEYS[1])
  if ttl == 0 then
    redis.call('PERSIST', KEYS[i])
  else
    local current = redis.call('PTTL', KEYS[i])
    if (current == -1 and redis.call('SCARD', KEYS[i]) == 1) or (current >= 0 and current < ttl) then
      redis.call('PEXPIRE', KEYS[i], ttl)
    end
  end
end
return 1`;

/** KEYS[1] a tag set. Deletes every member entry and the set, atomically; returns how many entries existed. */
const INVALIDATE_TAG = `
local members = redis.call('SMEMBERS', KEYS[1])
local removed = 0
for i = 1, #members, 500 do
  removed = removed + redis.call('UNLINK', unpack(members, i, math.min(i + 499, #members)))
end
redis.call('UNLINK', KEYS[1])
return removed`;

/**
 * KEYS[1] the lock; ARGV[1] the owner's token, ARGV[2] the lock TTL in ms. 1 when taken (or already
 * ours: a command resent after a lost reply must not read as "held by another"), 0 when held by another.
 */
const LOCK_ACQUIRE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return 1 end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', tonumber(ARGV[2])) then return 1 end
return 0`;

/** KEYS[1] the lock; ARGV[1] the token. Deletes the lock only if the token owns it; 1 when released. */
const LOCK_RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** KEYS[1] the lock; ARGV[1] the token, ARGV[2] the new TTL in ms. Extends only the owner's lock; 1 when extended. */
const LOCK_EXTEND = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2])) end
return 0`;

/*
 * Bounded reads. An entry over the limit cannot be one the namespace wrote (it refuses such values),
 * so a batched read deletes it on the spot, atomically, and answers its size instead of its bytes.
 */

/**
 * KEYS the entries of a batch; ARGV[1] the largest payload accepted, in bytes. Deletes every entry over
 * the limit, without reading it, and returns `{ index, size, … }` of those (1-based). Sent just before
 * the batch's MGET on the same connection, so the MGET does not find them: the values cross Redis's
 * own MGET reply instead of being copied through the script, which costs a third of it.
 * Sizes by STRLEN (O(1): the value is not read); a key of another type is skipped, and reads as
 * missing, as MGET has it. Any other refusal (an ACL without STRLEN) fails the script: a read is never
 * unbounded. The loop calls no Lua function of its own: at 64 keys that costs a tenth of the script's time.
 */
const DROP_OVERSIZED = `
local limit = tonumber(ARGV[1])
local pcall = redis.pcall
local dropped = {}
for i = 1, #KEYS do
  local size = pcall('STRLEN', KEYS[i])
  if type(size) == 'table' then
    if string.find(size.err, 'WRONGTYPE', 1, true) ~= 1 then error(size) end
  elseif size > limit then
    redis.call('UNLINK', KEYS[i])
    dropped[#dropped + 1] = i
    dropped[#dropped + 1] = size
  end
end
return dropped`;

/**
 * KEYS[1] an entry; ARGV[1] a TTL in ms, ARGV[2] the largest payload accepted (0 = any). Returns the
 * value (or its size, unread, when over the limit) and, if there is one, resets its TTL (sliding expiry).
 */
const GET_AND_REFRESH_TTL = `
local limit = tonumber(ARGV[2])
if limit > 0 then
  local size = redis.call('STRLEN', KEYS[1])
  if size > limit then return size end
end
local value = redis.call('GET', KEYS[1])
if value then redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1])) end
return value`;

/*
 * The compare-and-set scripts compare sizes (STRLEN, O(1)) before values, so that a large value that
 * replaced the one expected is never copied into the script.
 */

/** KEYS[1] an entry; ARGV[1] the value expected, ARGV[2] its replacement. Keeps the TTL (and the tag sets). */
const REPLACE_IF_UNCHANGED = `
if redis.call('STRLEN', KEYS[1]) == #ARGV[1] and redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
  return 1
end
return 0`;

/** KEYS[1] an entry; ARGV[1] the value expected. Deletes it only if it still holds that value; 1 when deleted. */
const DELETE_IF_UNCHANGED = `
if redis.call('STRLEN', KEYS[1]) == #ARGV[1] and redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * KEYS[1] an entry; ARGV[1] a size in bytes. Deletes it (in the background: UNLINK) only if its value
 * is still larger than that, without reading it; 1 when deleted.
 */
const DELETE_IF_OVERSIZED = `
if redis.call('STRLEN', KEYS[1]) > tonumber(ARGV[1]) then return redis.call('UNLINK', KEYS[1]) end
return 0`;

export interface CacheScripts {
  cachekitSetWithTags(numKeys: number, ...keysAndArgs: (string | Buffer | number)[]): Promise<number>;
  cachekitInvalidateTag(numKeys: number, tagKey: string): Promise<number>;
  cachekitLockAcquire(numKeys: 1, lockKey: string, token: string, ttlMs: number): Promise<number>;
  cachekitLockRelease(numKeys: 1, lockKey: string, token: string): Promise<number>;
  cachekitLockExtend(numKeys: 1, lockKey: string, token: string, ttlMs: number): Promise<number>;
  /** Deletes the entries over `limit`, unread; `[index (1-based), size, …]` of those. */
  cachekitDropOversized(numKeys: number, keys: string[], limit: number): Promise<number[]>;
  cachekitGetAndRefreshTtl(numKeys: 1, key: string, ttlMs: number, limit: number): Promise<string | number | null>;
  /** The same, the value as bytes (ioredis defines a `…Buffer` twin of every script). */
  cachekitGetAndRefreshTtlBuffer(numKeys: 1, key: string, ttlMs: number, limit: number): Promise<Buffer | number | null>;
  cachekitReplaceIfUnchanged(numKeys: number, key: string, expected: string | Buffer, replacement: string | Buffer): Promise<number>;
  cachekitDeleteIfUnchanged(numKeys: 1, key: string, expected: string | Buffer): Promise<number>;
  cachekitDeleteIfOversized(numKeys: 1, key: string, limit: number): Promise<number>;
}

export type ScriptedRedis = Redis & CacheScripts;
export type ScriptedCluster = Cluster & CacheScripts;
/** A command connection of any topology, with the scripts defined. */
export type ScriptedClient = ScriptedRedis | ScriptedCluster;
export type ScriptedPipeline = ChainableCommander & {
  cachekitSetWithTags(numKeys: number, ...keysAndArgs: (string | Buffer | number)[]): ChainableCommander;
};

export function defineCacheScripts(client: Redis): ScriptedRedis;
export function defineCacheScripts(client: Redis | Cluster): ScriptedClient;
export function defineCacheScripts(client: Redis | Cluster): ScriptedClient {
  const scripted = client as ScriptedClient;
  if (typeof scripted.cachekitSetWithTags !== 'function') {
    client.defineCommand('cachekitSetWithTags', { lua: SET_WITH_TAGS });
    client.defineCommand('cachekitInvalidateTag', { lua: INVALIDATE_TAG });
    client.defineCommand('cachekitLockAcquire', { lua: LOCK_ACQUIRE });
    client.defineCommand('cachekitLockRelease', { lua: LOCK_RELEASE });
    client.defineCommand('cachekitLockExtend', { lua: LOCK_EXTEND });
    client.defineCommand('cachekitDropOversized', { lua: DROP_OVERSIZED });
    client.defineCommand('cachekitGetAndRefreshTtl', { lua: GET_AND_REFRESH_TTL });
    client.defineCommand('cachekitReplaceIfUnchanged', { lua: REPLACE_IF_UNCHANGED });
    client.defineCommand('cachekitDeleteIfUnchanged', { lua: DELETE_IF_UNCHANGED });
    client.defineCommand('cachekitDeleteIfOversized', { lua: DELETE_IF_OVERSIZED });
  }
  return scripted;
}
