import type { RedisConnectionOptions } from '../redis-connection-options';
import { defineCacheScripts, ScriptedClient } from '../redis-scripts';
import { createTopologyClient, RedisClient, RedisTopology, topologyOf } from './create-topology-client';

export const DEFAULT_COMMAND_CONNECTIONS = 1;

/** Where a backend takes the connection for its next command from. */
export interface CommandConnectionSource {
  next(): ScriptedClient;
}

/** A pool as it is, or one client as a pool of one (tests and tools that hold a single client). */
export function asConnectionSource(connection: ScriptedClient | CommandConnectionSource): CommandConnectionSource {
  return 'next' in connection && typeof connection.next === 'function'
    ? connection as CommandConnectionSource
    : { next: () => connection as ScriptedClient };
}

export interface ConnectionListeners {
  onError?(error: Error, connection: RedisClient): void;
  onReady?(connection: RedisClient): void;
}

/**
 * The connections of one Redis backend, kept apart by what they do:
 * - `commandConnections` connections (or Cluster clients) for ordinary commands, handed out
 *   round-robin by `next()`;
 * - pub/sub subscribers, made by `createSubscriber()` (a connection in SUBSCRIBE mode can run no
 *   other command; ioredis re-subscribes it after a reconnect or a Sentinel/Cluster failover);
 * - one connection for blocking commands, made on first use by `blocking()`, without a command
 *   timeout, so a BLPOP or WAIT never holds up the command connections.
 * Every connection it makes is closed by `close()`.
 */
export class RedisConnectionPool implements CommandConnectionSource {
  readonly topology: RedisTopology;
  private readonly commands: ScriptedClient[];
  private readonly extra = new Set<RedisClient>();
  private blockingConnection: RedisClient | undefined;
  private cursor = 0;

  constructor(
    private readonly options: RedisConnectionOptions,
    private readonly listeners: ConnectionListeners = {},
  ) {
    this.topology = topologyOf(options);
    const size = options.pool?.commandConnections ?? DEFAULT_COMMAND_CONNECTIONS;
    this.commands = Array.from({ length: size }, () => defineCacheScripts(this.watch(createTopologyClient(options, 'commands'))));
  }

  /** The command connection for the next command. */
  next(): ScriptedClient {
    if (this.commands.length === 1) return this.commands[0];
    const connection = this.commands[this.cursor];
    this.cursor = (this.cursor + 1) % this.commands.length;
    return connection;
  }

  /** Every command connection (e.g. to check that all are ready). */
  get commandConnections(): readonly ScriptedClient[] {
    return this.commands;
  }

  /**
   * A new connection for SUBSCRIBE / PSUBSCRIBE, e.g. for an invalidation bus. It is not connected
   * yet (`lazyConnect`): subscribing connects it. Closed with the pool; close it earlier with `quit()`.
   */
  createSubscriber(): RedisClient {
    const subscriber = this.watch(createTopologyClient(this.options, 'subscriber'));
    this.extra.add(subscriber);
    subscriber.once('end', () => this.extra.delete(subscriber));
    return subscriber;
  }

  /**
   * A new connection to be the redirect target of `CLIENT TRACKING` (see `ConnectionPurpose`), on the
   * master (standalone, Sentinel); not connected yet. Closed with the pool.
   */
  createTrackingConnection(): RedisClient {
    const connection = this.watch(createTopologyClient(this.options, 'tracking'));
    this.extra.add(connection);
    connection.once('end', () => this.extra.delete(connection));
    return connection;
  }

  /**
   * A tracking redirect connection to one Cluster node (`host:port` as the Cluster client dials it),
   * with the data nodes' credentials and TLS; not connected yet. Closed with the pool.
   */
  createNodeTrackingConnection(host: string, port: number): RedisClient {
    const { username, password, tls, connectTimeoutMs } = this.options;
    const connection = this.watch(createTopologyClient({ host, port, username, password, tls, connectTimeoutMs }, 'tracking'));
    this.extra.add(connection);
    connection.once('end', () => this.extra.delete(connection));
    return connection;
  }

  /** The connection for blocking commands, made on first use. */
  blocking(): ScriptedClient {
    if (this.blockingConnection === undefined) {
      this.blockingConnection = defineCacheScripts(this.watch(createTopologyClient(this.options, 'blocking')));
    }
    return this.blockingConnection as ScriptedClient;
  }

  /** Connects the command connections; rejects with the first failure (the others keep trying). */
  async connect(): Promise<void> {
    const results = await Promise.allSettled(this.commands.map((c) => c.connect()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  async close(): Promise<void> {
    const subscribers = new Set<RedisClient>(this.extra);
    const all: RedisClient[] = [...this.commands, ...this.extra];
    if (this.blockingConnection !== undefined) all.push(this.blockingConnection);
    this.extra.clear();
    await Promise.all(all.map(async (c) => {
      if (c.status === 'end') return;
      // Not connected (never, or reconnecting): a QUIT would only join the offline queue, which a
      // subscriber's or blocking connection's settings never flush, so shutdown would wait forever.
      // A subscriber holds no caller's writes either. Drop those; QUIT the others, within a bound.
      if (c.status !== 'ready' || subscribers.has(c)) {
        c.disconnect();
        return;
      }
      try {
        await quitWithin(c, QUIT_TIMEOUT_MS);
        // QUIT does not close the Sentinel failover detector's subscriptions to the sentinels; disconnect() does.
        if (this.topology === 'sentinel') c.disconnect();
      } catch {
        c.disconnect();
      }
    }));
  }


  private watch<C extends RedisClient>(connection: C): C {
    const { onError, onReady } = this.listeners;
    // Without an 'error' listener ioredis prints every reconnect failure itself.
    connection.on('error', (error: Error) => onError?.(error, connection));
    if (onReady) connection.on('ready', () => onReady(connection));
    return connection;
  }
}

/** How long a connection's QUIT may take at shutdown (its pending replies included) before it is dropped. */
const QUIT_TIMEOUT_MS = 2_000;

async function quitWithin(connection: RedisClient, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      connection.quit(),
      new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('QUIT timed out')), ms); }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
