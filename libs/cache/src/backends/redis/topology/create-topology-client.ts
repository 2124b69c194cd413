import Redis, { Cluster, ClusterOptions, RedisOptions } from 'ioredis';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import type { RedisConnectionOptions, RedisTlsOptions } from '../redis-connection-options';
import { parseNodeAddress } from './parse-node-address';

export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_COMMAND_TIMEOUT_MS = 2_000;
/** Sentinel and Cluster: long enough to outlast a failover (~2.5 s measured with 1 s node timeouts). */
export const DEFAULT_HA_COMMAND_TIMEOUT_MS = 5_000;

/** What a connection is for: ordinary commands, SUBSCRIBE (pub/sub), or blocking commands (no command timeout). */
export type ConnectionPurpose = 'commands' | 'subscriber' | 'blocking';

export type RedisTopology = 'standalone' | 'sentinel' | 'cluster';

/** The client of any topology: a `Redis` (standalone or Sentinel-managed) or a `Cluster`. */
export type RedisClient = Redis | Cluster;

export function topologyOf(options: RedisConnectionOptions): RedisTopology {
  if (options.cluster !== undefined) return 'cluster';
  if (options.sentinel !== undefined) return 'sentinel';
  return 'standalone';
}

export function toTlsOptions(tls: boolean | RedisTlsOptions | undefined): TlsConnectionOptions | undefined {
  if (tls === undefined || tls === false) return undefined;
  return tls === true ? {} : { ...tls };
}

/**
 * Builds the ioredis client for the given options (the options were validated at start-up). Settings
 * chosen for a cache, and why:
 *
 * All topologies
 * - `lazyConnect`: the module decides when to connect (at start-up); the app can start while Redis is down.
 * - no ioredis `keyPrefix`: it is not applied to SCAN patterns, so the backend prefixes keys itself.
 * - reconnects forever, so the cache recovers by itself.
 * - RESP3 (`HELLO 3`; ioredis falls back to RESP2 on a server without it) with replies in the RESP2
 *   shapes the backend reads (`replyMapping: 'legacy'`): stated here, not left to the client's
 *   defaults, so that the wire protocol and the reply shapes change only with this file.
 *
 * Standalone: `maxRetriesPerRequest: 1` and a 2 s command timeout, so a dead Redis fails a call
 * within about a second (the loader runs) instead of queueing it for ~20 reconnect attempts.
 * Reconnect backoff 200 ms → 500 ms: tiered namespaces write to L1 only until the connection is back
 * (measured after a restart: up to the backoff cap, 2.2 s with a 2 s cap), and an attempt on a down
 * server costs one refused TCP connect.
 *
 * Sentinel: the point of Sentinel is to ride through a master failure, so commands made during the
 * switch wait (ioredis's default of 20 retries per request, bounded by the 5 s command timeout) and
 * are sent to the promoted master; measured with `kill -9` of the master: first command on the new
 * master 2.3 s after the kill. `failoverDetector: true` subscribes to the sentinels' `+switch-master`,
 * so the client also leaves a master the sentinels demoted while it still answers (`SENTINEL
 * FAILOVER`: 1.2 s instead of the ~11 s until the old master converts itself, i.e. far fewer writes
 * made to a master that is about to discard them).
 *
 * Cluster: the ioredis defaults (16 redirections, 100 ms apart) give up after ~1.6 s, before a ~2.5 s
 * failover completes, and callers see "Too many Cluster redirections" (measured: ~300 such errors in an
 * open-loop load). Retrying every 300 ms for up to 50 redirections, with cluster reconnects backing off
 * to 2 s, gave 0 errors under the same load; the 5 s command timeout bounds the wait. MOVED/ASK/TRYAGAIN
 * during slot migration are followed by ioredis itself (0 errors measured).
 */
export function createTopologyClient(options: RedisConnectionOptions, purpose: ConnectionPurpose = 'commands'): RedisClient {
  const topology = topologyOf(options);
  const node: RedisOptions = {
    lazyConnect: true,
    enableOfflineQueue: true,
    connectTimeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    connectionName: purpose === 'commands' ? 'nest-cachekit' : `nest-cachekit:${purpose}`,
    protocol: 3,
    replyMapping: 'legacy',
  };
  // A blocking command (BLPOP, XREAD BLOCK, WAIT) legitimately waits longer than any command timeout;
  // a subscriber holds no caller's request, so its SUBSCRIBE waits for the server as long as it takes.
  if (purpose === 'commands') {
    node.commandTimeout = options.commandTimeoutMs ?? (topology === 'standalone' ? DEFAULT_COMMAND_TIMEOUT_MS : DEFAULT_HA_COMMAND_TIMEOUT_MS);
  }
  if (options.username !== undefined) node.username = options.username;
  if (options.password !== undefined) node.password = options.password;
  const tls = toTlsOptions(options.tls);
  if (tls !== undefined) node.tls = tls;

  if (topology === 'cluster') {
    const cluster = options.cluster!;
    const clusterOptions: ClusterOptions = {
      lazyConnect: true,
      enableOfflineQueue: true,
      clusterRetryStrategy: (times) => Math.min(100 * times, 2_000),
      retryDelayOnFailover: 300,
      retryDelayOnClusterDown: 300,
      retryDelayOnTryAgain: 100,
      maxRedirections: 50,
      redisOptions: node,
    };
    if (cluster.natMap !== undefined) clusterOptions.natMap = cluster.natMap;
    if (tls !== undefined) {
      // With TLS, connect to nodes by the names given (ioredis otherwise resolves them and dials the
      // IP, which a certificate for the DNS name does not match); and let each node's TLS check use
      // its own host: one `servername` cannot match every node of a cluster.
      clusterOptions.dnsLookup = (address, callback) => callback(null, address);
      delete (node.tls as { servername?: string }).servername;
    }
    return new Cluster(cluster.nodes.map((n) => parseNodeAddress(n)!), clusterOptions);
  }

  node.retryStrategy = (attempt) => Math.min(attempt * 200, 500);
  if (purpose === 'subscriber') node.maxRetriesPerRequest = null;
  if (topology === 'sentinel') {
    const sentinel = options.sentinel!;
    node.sentinels = sentinel.sentinels.map((s) => parseNodeAddress(s)!);
    node.name = sentinel.name;
    node.role = 'master';
    node.failoverDetector = true;
    // Reconnect attempts while a failover runs: every 100 ms (up to 500 ms apart), so the client is on the promoted master soon after the switch.
    node.retryStrategy = (attempt) => Math.min(attempt * 100, 500);
    node.sentinelRetryStrategy = (attempt) => Math.min(attempt * 100, 1_000);
    if (sentinel.sentinelUsername !== undefined) node.sentinelUsername = sentinel.sentinelUsername;
    if (sentinel.sentinelPassword !== undefined) node.sentinelPassword = sentinel.sentinelPassword;
    const sentinelTls = toTlsOptions(sentinel.sentinelTls);
    if (sentinelTls !== undefined) node.sentinelTLS = sentinelTls;
    if (tls !== undefined) node.enableTLSForSentinelMode = true;
    if (options.db !== undefined) node.db = options.db;
    return new Redis(node);
  }

  node.maxRetriesPerRequest = purpose === 'subscriber' ? null : 1;
  if (options.host !== undefined) node.host = options.host;
  if (options.port !== undefined) node.port = options.port;
  if (options.db !== undefined) node.db = options.db;
  return options.url ? new Redis(options.url, node) : new Redis(node);
}
