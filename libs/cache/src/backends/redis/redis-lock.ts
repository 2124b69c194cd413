import { randomBytes } from 'node:crypto';
import { BackendUnavailableError } from '../../errors/backend-unavailable.error';
import { ScriptedClient } from './redis-scripts';
import { asConnectionSource, CommandConnectionSource } from './topology/redis-connection-pool';
import { readyClient } from './topology/cluster-commands';

/** Lock keys live beside the entries (so they share the namespace's `{hash tag}`), after a control character no key can hold. */
const LOCK_MARK = '\u001flock:';

/**
 * A per-key mutex across instances, on the namespace's Redis: SET NX PX with a random token (Lua), so
 * that only the owner can release or extend it, and a holder that dies frees it after the lock TTL.
 */
export class RedisLock {
  private readonly connections: CommandConnectionSource;

  constructor(
    connection: ScriptedClient | CommandConnectionSource,
    private readonly keyPrefix: string,
    private readonly namespace: string,
  ) {
    this.connections = asConnectionSource(connection);
  }

  private get client(): ScriptedClient {
    return readyClient(this.connections.next());
  }

  /** The owner's token, or `undefined` when another instance holds the lock. */
  async acquire(key: string, ttlMs: number): Promise<string | undefined> {
    const token = randomBytes(16).toString('base64url');
    const taken = await this.run('lock', () => this.client.cachekitLockAcquire(1, this.lockKey(key), token, ttlMs));
    return taken === 1 ? token : undefined;
  }

  /** Releases the lock if `token` still owns it; `false` when it had expired or passed to another. */
  async release(key: string, token: string): Promise<boolean> {
    return (await this.run('unlock', () => this.client.cachekitLockRelease(1, this.lockKey(key), token))) === 1;
  }

  /** Extends the owner's lock to `ttlMs` from now; `false` when `token` no longer owns it. */
  async extend(key: string, token: string, ttlMs: number): Promise<boolean> {
    return (await this.run('lock', () => this.client.cachekitLockExtend(1, this.lockKey(key), token, ttlMs))) === 1;
  }

  async isHeld(key: string): Promise<boolean> {
    return (await this.run('lock', () => this.client.exists(this.lockKey(key)))) === 1;
  }

  private lockKey(key: string): string {
    return this.keyPrefix + LOCK_MARK + key;
  }

  private async run<T>(operation: string, command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw new BackendUnavailableError('redis', this.namespace, operation, error);
    }
  }
}
