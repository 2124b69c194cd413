import { Logger } from '@nestjs/common';
import { BackendContext, BackendHealth, CacheBackend, CacheBackendFactory } from '../cache-backend.interface';
import { RedisBackend } from './redis-backend';
import { RedisConnectionOptions } from './redis-connection-options';
import { RedisConnectionPool } from './topology/redis-connection-pool';

/**
 * The built-in `redis` backend: one connection pool (standalone, Sentinel or Cluster; see
 * `RedisConnectionPool`) shared by every Redis namespace. The pool and its clients are made on first
 * use (`connect`, `create` or `connections`), so a factory no namespace uses holds nothing.
 */
export class RedisBackendFactory implements CacheBackendFactory {
  private readonly logger = new Logger('CacheRedis');
  private madePool: RedisConnectionPool | undefined;
  private connecting: Promise<void> | undefined;
  private lastError: string | undefined;

  constructor(private readonly options: RedisConnectionOptions) {}

  private get pool(): RedisConnectionPool {
    return this.madePool ??= new RedisConnectionPool(this.options, {
      // Log each distinct connection error once (reconnect loops repeat them).
      onError: (error) => {
        if (error.message === this.lastError) return;
        this.lastError = error.message;
        this.logger.error(`Redis connection error: ${error.message}`);
      },
      onReady: () => {
        if (this.lastError !== undefined) this.logger.log('Redis connection restored');
        this.lastError = undefined;
      },
    });
  }

  /**
   * The connections: the command pool (`next()`), `createSubscriber()` for the tiers' invalidation
   * bus, `blocking()`; the tiers' locks use the command pool. @internal
   */
  get connections(): RedisConnectionPool {
    return this.pool;
  }

  create(context: BackendContext): CacheBackend {
    return new RedisBackend(this.pool, context.keyPrefix, context.namespace, context.maxPayloadBytes ?? 0, context.payloadFormat === 'binary');
  }

  /**
   * Connects at start-up. A Redis that is down does not stop the app: the error is logged, the
   * client keeps reconnecting in the background, and until then calls fail with
   * `BackendUnavailableError` (and `getOrSet` falls through to its loader). Connects once: later
   * calls wait for the first.
   */
  connect(): Promise<void> {
    return this.connecting ??= this.pool.connect().catch((error: unknown) => {
      this.logger.error(`Redis is not reachable at start-up; retrying in the background: ${(error as Error).message}`);
    });
  }

  /**
   * PING round trip and the server's memory figures (INFO memory); `down` unless every command
   * connection of the pool is ready, or on any failure. On Cluster, PING and INFO go to one node the
   * client picks, so the memory figures are that shard's.
   */
  async health(): Promise<BackendHealth> {
    const connections = this.pool.commandConnections;
    const ready = connections.filter((c) => c.status === 'ready').length;
    const client = connections[0];
    if (ready < connections.length) {
      return { status: 'down', state: connections.find((c) => c.status !== 'ready')!.status, connectionsReady: ready, connections: connections.length };
    }
    try {
      const started = performance.now();
      await client.ping();
      const pingMs = Math.round((performance.now() - started) * 1000) / 1000;
      const info = await client.info('memory');
      const field = (name: string): number | undefined => {
        const match = new RegExp(`^${name}:(\\d+)`, 'm').exec(info);
        return match === null ? undefined : Number(match[1]);
      };
      return { status: 'up', pingMs, usedMemoryBytes: field('used_memory'), maxMemoryBytes: field('maxmemory') };
    } catch (error) {
      return { status: 'down', state: client.status, error: (error as Error).name };
    }
  }

  async close(): Promise<void> {
    await this.madePool?.close();
  }
}
