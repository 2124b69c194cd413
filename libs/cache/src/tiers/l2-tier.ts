import { Logger } from '@nestjs/common';
import { CacheBackend, OversizedPayload } from '../backends/cache-backend.interface';
import { BackendUnavailableError } from '../errors/backend-unavailable.error';
import { CacheError } from '../errors/cache-error';
import { CircuitBreaker } from './circuit-breaker';
import { BusMessage } from './bus-wire';
import { TierCounters } from './l1-tier';
import { openEnvelope, samePayload, wrapEnvelope } from './tier-envelope';
import { TierReports } from './tier-reports';

/** Keys written or deleted while L2 was down, beyond which the whole namespace is cleared at recovery. */
const MAX_DIRTY_KEYS = 10_000;
const DIRTY_REPLAY_BATCH = 100;

export interface L2TierOptions {
  namespace: string;
  backend: CacheBackend;
  breaker: CircuitBreaker;
  reports: TierReports;
  outageWrites?: 'l1' | 'throw';
  publish(message: BusMessage): void;
  /** After an outage, once L2 holds no older value than the L1s: drop this instance's L1. */
  invalidateL1(): void;
}

/**
 * The shared tier of a `TwoTierStore` and its outages: the L2 byte backend behind its circuit
 * breaker. It counts its calls, reports the writes L1 kept alone (`fallback` events), and
 * records the keys of the writes L2 missed (an outage, or a blip while the breaker stayed closed);
 * at recovery (breaker half-open, or the next call that lands) those keys are deleted in L2, then the
 * L1 is invalidated, so that no value from before or during the outage is trusted after it.
 */
export class L2Tier {
  readonly counters: TierCounters = { hits: 0, misses: 0, sets: 0, errors: 0 };
  readonly backend: CacheBackend;
  private readonly dirtyKeys = new Set<string>();
  private dirtyAll = false;
  private replaying = false;
  private readonly logger = new Logger('CacheTiers');

  constructor(private readonly options: L2TierOptions) {
    this.backend = options.backend;
    options.breaker.onRecover(() => this.recover());
  }

  /** The breaker lets calls through. */
  get allows(): boolean {
    return this.options.breaker.allows;
  }

  /**
   * A call landed. A write that failed while the breaker stayed closed (a short blip) is replayed
   * now, since no half-open probe will come to do it.
   */
  succeeded(): void {
    this.options.breaker.success();
    if ((this.dirtyAll || this.dirtyKeys.size > 0) && !this.replaying) {
      this.replaying = true;
      this.recover().catch(() => undefined).finally(() => (this.replaying = false));
    }
  }

  failed(): void {
    this.counters.errors++;
    this.options.breaker.failure();
  }

  /**
   * Runs a write of `keys` (`null`: the whole namespace): `undefined` when it landed; otherwise the
   * outage is reported (for value writes kept in L1, with `l1Only: true`), the keys are recorded for
   * replay, and the failure is answered. A refusal (tags on a prefix without a hash tag on Cluster, a
   * value too large…) is the caller's error, not an outage: it is thrown, and neither counts toward
   * the breaker nor marks keys.
   */
  async write(operation: string, write: () => unknown, keys: readonly string[] | null, writesValues = false): Promise<{ cause: unknown } | undefined> {
    let cause: unknown = 'its circuit is open';
    if (this.options.breaker.allows) {
      try {
        await write();
        // L2 now holds the newest state of these keys: nothing left to replay for them.
        if (keys !== null && !this.dirtyAll) for (const k of keys) this.dirtyKeys.delete(k);
        this.succeeded();
        return undefined;
      } catch (error) {
        if (error instanceof CacheError && !(error instanceof BackendUnavailableError)) throw error;
        this.failed();
        cause = error;
      }
    }
    const { reports } = this.options;
    if (!writesValues) {
      reports.fallback(operation);
    } else if (this.options.outageWrites !== 'throw') {
      reports.l1OnlyWrites += keys!.length;
      reports.fallback(operation, true);
    }
    if (keys === null || this.dirtyKeys.size + keys.length > MAX_DIRTY_KEYS) {
      this.dirtyAll = true;
      this.dirtyKeys.clear();
    } else if (!this.dirtyAll) {
      for (const k of keys) this.dirtyKeys.add(k);
    }
    return { cause };
  }

  /**
   * Deletes an entry found tampered or unreadable only if it still holds `body` (an `OversizedPayload`:
   * only if it is still over the limit), and tells the other instances.
   */
  async deleteBody(key: string, body: unknown): Promise<boolean> {
    if (!this.allows) return false;
    try {
      let deleted: boolean;
      // Oversized: never read in full; L2 deletes it only if it is still over the limit.
      if (body instanceof OversizedPayload) deleted = await this.backend.deleteIfUnchanged!(key, body);
      else {
        const current = await this.backend.get(key);
        if ((typeof current !== 'string' && !Buffer.isBuffer(current)) || !samePayload(openEnvelope(current).body, body)) return false;
        deleted = await this.backend.deleteIfUnchanged!(key, current);
      }
      this.succeeded();
      if (deleted) this.options.publish({ n: this.options.namespace, o: 'k', k: [key] });
      return deleted;
    } catch {
      this.failed();
      return false;
    }
  }

  /**
   * Re-encrypt-on-read: swaps the body of the entry (keeping its envelope and TTL) only if it still
   * holds `expected`. The L1s keep their live values: the logical value is the same, so nothing is published.
   */
  async replaceBody(key: string, expected: string | Buffer, replacement: string | Buffer): Promise<boolean> {
    if (!this.allows) return false;
    try {
      const current = await this.backend.get(key);
      if (typeof current !== 'string' && !Buffer.isBuffer(current)) return false;
      const opened = openEnvelope(current);
      if (!samePayload(opened.body, expected)) return false;
      const replaced = await this.backend.replaceIfUnchanged!(key, current, opened.times === '' ? replacement : wrapEnvelope(opened.times, replacement));
      this.succeeded();
      return replaced;
    } catch {
      this.failed();
      return false;
    }
  }

  /** Replays what L2 missed, then invalidates L1. Throws (keeping the breaker open) if L2 still fails. */
  private async recover(): Promise<void> {
    const { namespace, publish } = this.options;
    let dropped: string;
    if (this.dirtyAll) {
      await this.backend.clear();
      this.dirtyAll = false;
      publish({ n: namespace, o: 'c' });
      dropped = 'the namespace was cleared in L2 (too many keys changed during the outage)';
    } else if (this.dirtyKeys.size > 0) {
      const keys = [...this.dirtyKeys];
      dropped = `${keys.length} key(s) written or invalidated during the outage were deleted in L2`;
      for (let i = 0; i < keys.length; i += DIRTY_REPLAY_BATCH) {
        const batch = keys.slice(i, i + DIRTY_REPLAY_BATCH);
        await Promise.all(batch.map((k) => this.backend.delete(k)));
        for (const k of batch) this.dirtyKeys.delete(k);
        publish({ n: namespace, o: 'k', k: batch });
      }
    } else {
      await this.backend.has('\u001fprobe');
      dropped = 'nothing was written during the outage';
    }
    this.options.invalidateL1();
    this.logger.log(`Namespace "${namespace}" recovered: L1 invalidated after the outage; ${dropped}`);
  }
}
