import Redis, { RedisOptions } from 'ioredis';
import { RedisConnectionOptions } from './redis-connection-options';

export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_COMMAND_TIMEOUT_MS = 2_000;

/**
 * Builds the ioredis client for the given options. Settings chosen for a cache, where a slow answer is
 * worse than a miss:
 * - `maxRetriesPerRequest: 1` and a command timeout, so a dead Redis fails a call within about a
 *   second instead of queueing it for ~20 reconnect attempts;
 * - reconnects forever with backoff capped at 2 s, so the cache recovers by itself;
 * - `lazyConnect`, so the module decides when to connect (at start-up) and the app can start while
 *   Redis is down;
 * - no ioredis `keyPrefix`: it is not applied to SCAN patterns, so the backend prefixes keys itself.
 */
export function createRedisClient(options: RedisConnectionOptions): Redis {
  const ioOptions: RedisOptions = {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    connectTimeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    commandTimeout: options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    connectionName: 'nest-cachekit',
  };
  if (options.host !== undefined) ioOptions.host = options.host;
  if (options.port !== undefined) ioOptions.port = options.port;
  if (options.username !== undefined) ioOptions.username = options.username;
  if (options.password !== undefined) ioOptions.password = options.password;
  if (options.db !== undefined) ioOptions.db = options.db;
  if (options.tls === true) ioOptions.tls = {};
  else if (options.tls) ioOptions.tls = { ...options.tls };
  return options.url ? new Redis(options.url, ioOptions) : new Redis(ioOptions);
}
