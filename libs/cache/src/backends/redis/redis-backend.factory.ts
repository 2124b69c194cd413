import { Logger } from '@nestjs/common';
import { BackendContext, BackendHealth, CacheBackend, CacheBackendFactory } from '../cache-backend.interface';
import { createRedisClient } from './create-redis-client';
import { RedisBackend } from './redis-backend';
import { RedisConnectionOptions } from './redis-connection-options';
import { defineCacheScripts, ScriptedRedis } from './redis-scripts';

/** The built-in `redis` backend: one ioredis connection shared by every Redis namespace. */
export class RedisBackendFactory implements CacheBackendFactory {
  private readonly logger = new Logger('CacheRedis');
  private readonly client: ScriptedRedis;
  private lastError: string | undefined;

  constructor(options: RedisConnectionOptions) {
    this.client = defineCacheScripts(createRedisClient(options));
    // Without a listener ioredis prints every reconnect failure; log each distinct one once.
    this.client.on('error', (error: Error) => {
      if (error.message === this.lastError) return;
      this.lastError = error.message;
      this.logger.error(`Redis connection error: ${error.message}`);
    });
    this.client.on('ready', () => {
      if (this.lastError !== undefined) this.logger.log('Redis connection restored');
      this.lastError = undefined;
    });
  }

  /** The shared client, for the tiers' invalidation bus and locks. @internal */
  get connection(): ScriptedRedis {
    return this.client;
  }

  create(context: BackendContext): CacheBackend {
    return new RedisBackend(this.client, context.keyPrefix, context.namespace);
  }

  /**
   * Connects at start-up. A Redis that is down does not stop the app: the error is logged, the
   * client keeps reconnecting in the background, and until then calls fail with
   * `BackendUnavailableError` (and `getOrSet` falls through to its loader).
   */
  async connect(): Promise<void> {
    try {
      await this.client.connect();
    } catch (error) {
      this.logger.error(`Redis is not reachable at start-up; retrying in the background: ${(error as Error).message}`);
    }
  }

  /** PING round trip and the server's memory figures (INFO memory); `down` while not connected or on any failure. */
  async health(): Promise<BackendHealth> {
    if (this.client.status !== 'ready') return { status: 'down', state: this.client.status };
    try {
      const started = performance.now();
      await this.client.ping();
      const pingMs = Math.round((performance.now() - started) * 1000) / 1000;
      const info = await this.client.info('memory');
      const field = (name: string): number | undefined => {
        const match = new RegExp(`^${name}:(\\d+)`, 'm').exec(info);
        return match === null ? undefined : Number(match[1]);
      };
      return { status: 'up', pingMs, usedMemoryBytes: field('used_memory'), maxMemoryBytes: field('maxmemory') };
    } catch (error) {
      return { status: 'down', state: this.client.status, error: (error as Error).name };
    }
  }

  async close(): Promise<void> {
    if (this.client.status === 'end') return;
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }
}
