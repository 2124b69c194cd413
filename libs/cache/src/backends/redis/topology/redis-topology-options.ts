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
   * Connections for ordinary commands, used round-robin. Default 1: `npm run bench:pool` (get of
   * 1 KB at concurrency 64) measured 2 connections at 0.96–1.02× and 4 at 0.93–0.99× of one with the
   * default (MGET-batched) prefix, and 0.93–0.95× / 0.87–0.91× with one GET per call (docs/redis-topologies.md,
   * "Connections"): the Node process, not the socket, is the bottleneck. Pub/sub and blocking work
   * always get connections of their own, made on demand.
   */
  commandConnections?: number;
}
