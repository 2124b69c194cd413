import { Logger } from '@nestjs/common';
import { describeError } from '../logging/error-fields';

/** What each cache event carries. Keys are included: listeners run in-process (e.g. to sync a search index). */
export interface CacheEventMap {
  /** An entry was written (`set`, `mset`, a `getOrSet` or `@Cacheable` load, `@CachePut`). */
  set: { namespace: string; key: string; ttlMs: number };
  /** An entry was removed on request (`invalidate`, `@CacheEvict`). */
  invalidate: { namespace: string; key: string; existed: boolean };
  /** Every entry carrying `tag` was removed. */
  tagInvalidated: { namespace: string; tag: string; removed: number };
  /** A whole namespace was cleared. */
  namespaceCleared: { namespace: string; removed: number };
  /** The memory backend evicted an entry to stay within its bounds. */
  evicted: { namespace: string; key: string };
  /** The memory backend found an entry past its TTL and dropped it (Redis expires silently). */
  expired: { namespace: string; key: string };
  /** Fail-safe: a value past its TTL (within the grace period) answered instead of an error. */
  staleServed: { namespace: string; key: string; reason: 'loader-error' | 'loader-timeout' | 'backend-down' };
  /**
   * A tiered namespace answered from its L1 (or wrote only to it) because its L2 backend was down.
   * `l1Only`: a `set`/`mset` whose value reached only this instance's L1: other instances do not see
   * it, and it is dropped when L2 recovers.
   */
  fallback: { namespace: string; operation: string; backend: string; l1Only?: true };
  /** A backend's circuit breaker changed state (`open`: calls are not sent to it). */
  backendState: { backend: string; state: 'open' | 'half-open' | 'closed' };
  /**
   * An encrypted entry failed authentication (altered, truncated, copied from another key or
   * namespace, sealed with an unknown key…): it was treated as a miss and deleted. `reason` is the
   * `DecryptionFailedError` reason (`malformed`, `unknown-version`, `unknown-key`,
   * `authentication-failed`, `expired`).
   */
  tamper: { namespace: string; key: string; reason: string };
  /**
   * An entry sealed with an older key was read and sealed again with the newest one, in place
   * (`reencryptOnRead`). Key ids where the provider names its keys (never key material).
   */
  keyRotated: { namespace: string; key: string; fromKeyId?: string; toKeyId?: string };
  /** RBAC refused an operation (`namespace` is `'*'` for a route guarded by `@CacheRoles`). */
  denied: { namespace: string; operation: string; principal: string };
}

export type CacheEventName = keyof CacheEventMap;
export type CacheEventListener<E extends CacheEventName> = (event: CacheEventMap[E]) => void;

/**
 * The cache's typed event hooks: `cache.events.on('invalidate', (e) => …)`. Listeners run
 * synchronously after the operation; one that throws is logged and never fails the operation or the
 * other listeners. Emitting costs nothing while an event has no listener.
 */
export class CacheEvents {
  private readonly listeners: { [E in CacheEventName]?: CacheEventListener<E>[] } = {};
  private readonly logger = new Logger('CacheEvents');

  /** Subscribes; returns a function that unsubscribes. */
  on<E extends CacheEventName>(event: E, listener: CacheEventListener<E>): () => void {
    const list = (this.listeners[event] ??= []) as CacheEventListener<E>[];
    list.push(listener);
    return () => {
      const index = list.indexOf(listener);
      if (index >= 0) list.splice(index, 1);
    };
  }

  has(event: CacheEventName): boolean {
    return (this.listeners[event]?.length ?? 0) > 0;
  }

  emit<E extends CacheEventName>(event: E, payload: CacheEventMap[E]): void {
    const list = this.listeners[event] as CacheEventListener<E>[] | undefined;
    if (list === undefined || list.length === 0) return;
    for (const listener of [...list]) {
      try {
        listener(payload);
      } catch (error) {
        const where = 'namespace' in payload ? `namespace "${payload.namespace}"` : `backend "${(payload as { backend: string }).backend}"`;
        this.logger.error(`A "${event}" listener threw in ${where}: ${describeError(error)}`);
      }
    }
  }
}
