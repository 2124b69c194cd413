import { Cluster } from 'ioredis';
import type { ScriptedClient } from '../redis-scripts';
import { groupBySlot } from './key-slot';

export const isCluster = (client: ScriptedClient): client is ScriptedClient & Cluster => client instanceof Cluster;

/**
 * The client, if a command sent now would get an answer or a timeout. A Cluster client that is not
 * ready (no node reachable, slots not loaded) parks commands in an offline queue that has no timer
 * (the command timeout starts only once a node takes the command), so a call would wait for as long
 * as the cluster is gone: refuse it instead, and the caller gets `BackendUnavailableError` at once.
 */
export function readyClient(client: ScriptedClient): ScriptedClient {
  if (isCluster(client) && client.status !== 'ready') throw new Error(`Redis Cluster is not ready (${client.status})`);
  return client;
}

/**
 * MGET that also works on a Cluster with keys in several slots: one MGET per slot, all sent at
 * once, results put back in the order of `keys`. A single slot (the usual case: a namespace's keys
 * share its `{hash tag}`) is one plain MGET.
 */
export function mgetAcrossSlots(client: ScriptedClient, keys: string[]): Promise<(string | null)[]> {
  return readAcrossSlots(client, keys, (c, slotKeys) => c.mget(slotKeys));
}

/**
 * A multi-key read (MGET, or a script over the keys such as the bounded read) that also works on a
 * Cluster with keys in several slots: `read` once per slot, all sent at once, results put back in
 * the order of `keys`.
 */
export async function readAcrossSlots<T>(
  client: ScriptedClient, keys: string[], read: (client: ScriptedClient, slotKeys: string[]) => Promise<T[]>,
): Promise<T[]> {
  if (!isCluster(client)) return read(client, keys);
  const groups = groupBySlot(keys);
  if (groups.length === 1) return read(client, keys);
  const values = new Array<T>(keys.length);
  await Promise.all(groups.map(async (group) => {
    const found = await read(client, group.map((i) => keys[i]));
    group.forEach((index, j) => (values[index] = found[j]));
  }));
  return values;
}

/**
 * Every key matching `pattern`, from every master of a Cluster (SCAN only sees the node it is sent
 * to) or from the one server, in batches handed to `onBatch` as they are found.
 */
export async function scanEveryMaster(
  client: ScriptedClient, pattern: string, count: number, onBatch: (keys: string[]) => Promise<void>,
): Promise<void> {
  const nodes = isCluster(client) ? client.nodes('master') : [client];
  await Promise.all(nodes.map(async (node) => {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', count);
      cursor = next;
      if (keys.length > 0) await onBatch(keys);
    } while (cursor !== '0');
  }));
}

/** UNLINK that also works on a Cluster with keys in several slots (one UNLINK per slot, in parallel). */
export async function unlinkAcrossSlots(client: ScriptedClient, keys: string[]): Promise<number> {
  if (!isCluster(client)) return client.unlink(...keys);
  const counts = await Promise.all(groupBySlot(keys).map((group) => client.unlink(...group.map((i) => keys[i]))));
  return counts.reduce((a, b) => a + b, 0);
}
