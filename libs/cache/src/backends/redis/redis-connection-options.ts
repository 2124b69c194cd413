import type { RedisClusterOptions, RedisPoolOptions, RedisSentinelOptions } from './topology/redis-topology-options';

/** TLS settings for Redis; PEM contents, not file paths. */
export interface RedisTlsOptions {
  /** CA certificate(s) that signed the server's certificate. */
  ca?: string | Buffer;
  /** Client certificate and key, for servers with `tls-auth-clients yes`. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Name to check the server certificate against, when it differs from `host`. */
  servername?: string;
  /** Default true. Turn off only for local experiments. */
  rejectUnauthorized?: boolean;
}

/**
 * How to reach Redis: a standalone server (`url` and/or `host`/`port`), a Sentinel group (`sentinel`)
 * or a Cluster (`cluster`). A `url` (`redis://` or `rediss://`) and the separate fields may be
 * combined; fields win. `username`, `password` and `tls` apply to the data nodes in every topology.
 */
export interface RedisConnectionOptions {
  url?: string;
  host?: string;
  port?: number;
  /** ACL user (Redis 6+); leave out for `requirepass`. */
  username?: string;
  password?: string;
  db?: number;
  /** `true` for TLS with the system CAs, or the TLS settings. */
  tls?: boolean | RedisTlsOptions;
  /** Default 5000. */
  connectTimeoutMs?: number;
  /**
   * A command that gets no reply in this time fails with `BackendUnavailableError`. Default 2000 on a
   * standalone Redis (fail fast, the loader runs); 5000 with `sentinel` or `cluster`, long enough to
   * ride through a failover (~2.5 s measured) instead of failing every call made during it.
   */
  commandTimeoutMs?: number;
  /** Redis Sentinel; not together with `cluster`, `url` or `host`/`port`. */
  sentinel?: RedisSentinelOptions;
  /** Redis Cluster; not together with `sentinel`, `url`, `host`/`port` or `db`. */
  cluster?: RedisClusterOptions;
  /** Connections per server: command pool size (pub/sub and blocking connections are separate). */
  pool?: RedisPoolOptions;
}
