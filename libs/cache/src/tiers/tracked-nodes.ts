import type { Cluster } from 'ioredis';
import type { RedisClient } from '../backends/redis/topology/create-topology-client';
import type { RedisConnectionPool } from '../backends/redis/topology/redis-connection-pool';
import type { TrackedNode, TrackedTopology } from './key-tracking';

/**
 * The servers key tracking runs on, with the command connections to each:
 * - standalone and Sentinel: the master (a Sentinel client's connections follow the promoted one,
 *   and tracking is enabled again there when they reconnect);
 * - Cluster: every master, each with the Cluster clients' own connections to it (tracking is per
 *   server: a node only announces changes of its own keys, to a redirect connection on itself); the
 *   set is read again whenever a Cluster client refreshes its slots or gains or loses a node, so a
 *   promoted replica or a slot's new owner is tracked too.
 */
export function trackedTopology(pool: RedisConnectionPool): TrackedTopology {
  if (pool.topology !== 'cluster') {
    const node: TrackedNode = { key: 'master', commandConnections: pool.commandConnections, createRedirect: () => pool.createTrackingConnection() };
    return { nodes: () => [node], watch: () => () => undefined, covers: () => true, refresh: () => undefined };
  }
  const clusters = pool.commandConnections as unknown as Cluster[];
  return {
    nodes: () => {
      const byKey = new Map<string, RedisClient[]>();
      for (const cluster of clusters) {
        for (const connection of cluster.nodes('master')) {
          const key = `${connection.options.host}:${connection.options.port}`;
          byKey.set(key, [...(byKey.get(key) ?? []), connection]);
        }
      }
      return [...byKey].map(([key, connections]) => {
        const { host, port } = connections[0].options as { host: string; port: number };
        return { key, commandConnections: connections, createRedirect: () => pool.createNodeTrackingConnection(host, port) };
      });
    },
    // Trusted only once every slot's master (as the Cluster client knows them) is tracked: after a
    // node left, until the slots are refreshed and its successor's link is armed.
    covers: (keys) => clusters.every((cluster) => {
      const slots = (cluster as unknown as { slots: (string[] | undefined)[] }).slots;
      for (let slot = 0; slot < 16_384; slot++) if (slots[slot] === undefined || !keys.has(slots[slot]![0])) return false;
      return true;
    }),
    refresh: () => {
      for (const cluster of clusters) cluster.refreshSlotsCache();
    },
    watch: (changed) => {
      const events = ['refresh', '+node', '-node'];
      for (const cluster of clusters) for (const event of events) cluster.on(event, changed);
      return () => {
        for (const cluster of clusters) for (const event of events) cluster.off(event, changed);
      };
    },
  };
}
