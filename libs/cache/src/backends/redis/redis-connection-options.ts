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

/** How to reach a standalone Redis. A `url` (`redis://` or `rediss://`) and the separate fields may be combined; fields win. */
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
  /** A command that gets no reply in this time fails with `BackendUnavailableError`. Default 2000. */
  commandTimeoutMs?: number;
}
