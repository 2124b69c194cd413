import type { RedisTlsOptions } from '../redis-connection-options';

/** One Redis or Sentinel node: `{ host, port }`, or `'host:port'` / `'redis://host:port'`. */
export type RedisNodeAddress = { host: string; port: number } | string;

/**
 * Redis Sentinel (high availability): the client asks the sentinels which node is the master of
 * `name`, and follows the master when the sentinels promote a replica.
 */
export interface RedisSentinelOptions {
  /** The master's name as the sentinels know it (`sentinel monitor <name> ...`). */
  name: string;
  /** At least one sentinel; list several so that one down sentinel does not matter. */
  sentinels: RedisNodeAddress[];
  /** Credentials of the sentinels themselves (`requirepass`/ACL of the sentinel processes), if any. */
  sentinelUsername?: string;
  sentinelPassword?: string;
  /** TLS to the sentinels; the data nodes use the top-level `tls`. */
  sentinelTls?: boolean | RedisTlsOptions;
}

/** Redis Cluster (sharding): a few seed nodes; the client discovers the rest from them. */
export interface RedisClusterOptions {
  /** Seed nodes; any reachable one is enough to discover the cluster. */
  nodes: RedisNodeAddress[];
  /**
   * Addresses the cluster announces, mapped to the addresses this client must dial (a cluster
   * behind NAT or in containers): `{ '10.0.0.5:6379': { host: '203.0.113.9', port: 30001 } }`.
   */
  natMap?: Record<string, { host: string; port: number }>;
}

/** How many connections the backend keeps per Redis (or per Cluster node). */
export interface RedisPoolOptions {
  /**
   * Connections for ordinary commands, used round-robin. Default 1: on this project's bench a second
   * connection did not help (see README, "Redis topologies"). Pub/sub and blocking work always get
   * connections of their own, made on demand.
   */
  commandConnections?: number;
}
