import { RedisConnectionOptions } from './redis-connection-options';
import { ConnectionPurpose, createTopologyClient, RedisClient } from './topology/create-topology-client';

/**
 * Builds the ioredis client for the given options: a `Redis` for a standalone server or a Sentinel
 * group, a `Redis.Cluster` for a Cluster. The settings per topology, and why, are on
 * `createTopologyClient`.
 */
export function createRedisClient(options: RedisConnectionOptions, purpose?: ConnectionPurpose): RedisClient {
  return createTopologyClient(options, purpose);
}
