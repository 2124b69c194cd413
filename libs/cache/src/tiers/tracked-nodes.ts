import type { RedisConnectionPool } from '../backends/redis/topology/redis-connection-pool';
import type { TrackedNode } from './key-tracking';

/**
 * The servers key tracking runs on, with their command connections: standalone and Sentinel have one
 * (the master; a Sentinel client's connections follow the promoted one, and tracking is enabled again
 * on it when they reconnect).
 */
export function trackedNodes(pool: RedisConnectionPool): TrackedNode[] {
  return [{ commandConnections: pool.commandConnections, createRedirect: () => pool.createTrackingConnection() }];
}
