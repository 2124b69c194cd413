import { Logger } from '@nestjs/common';
import { describeError } from '../logging/error-fields';

/** A running `getOrSet` load. `superseded` is set when its key is written, invalidated or cleared meanwhile. */
export class Flight {
  superseded = false;
  /** Its value reached the store (not refused by `cacheIf`, not too large, the backend up). */
  stored = false;
  promise!: Promise<unknown>;
  /** An early refresh of a value still fresh: callers that hit the cache do not wait for it. */
  constructor(readonly refresh = false) {}
}

/**
 * The `getOrSet` loads running in this process, one per key: a caller that misses while its key loads
 * joins that load (`coalesced`). A write, invalidation or clear supersedes a running load: its value
 * still answers the callers that were waiting, but is not stored (it may be stale), and later callers
 * start a fresh one. Early refreshes run through the same map: one background reload per key, joined
 * by callers that miss meanwhile.
 */
export class SingleFlight {
  /** `getOrSet` calls that joined a running load. */
  coalesced = 0;
  private readonly inflight = new Map<string, Flight>();
  /**
   * Loads whose value was stored in the current turn of the event loop, kept until it ends. A caller
   * whose read was sent before such a load's write can get its miss in the same socket chunk as the
   * write's reply, and run its continuation after the load has left `inflight`: it joins the load
   * here instead of loading again (its read overlapped the load, so the load's value is one it may see).
   */
  private readonly settledThisTurn = new Map<string, Flight>();
  private clearScheduled = false;
  private readonly logger = new Logger('CacheNamespace');

  constructor(private readonly namespace: string) {}

  /**
   * The load (not an early refresh) running for `key`, joined before the store is read: its value will
   * be the newest, and a read sent now could reach the store before the load's write and come back a
   * miss after the load has ended.
   */
  joinLoad<T>(key: string): Promise<T> | undefined {
    const running = this.inflight.size === 0 ? undefined : this.inflight.get(key);
    if (running === undefined || running.refresh) return undefined;
    this.coalesced++;
    return running.promise as Promise<T>;
  }

  /** The load or refresh running for `key` (or stored in this turn), joined; undefined when there is none. */
  join<T>(key: string): Promise<T> | undefined {
    const running = this.inflight.get(key) ?? (this.settledThisTurn.size === 0 ? undefined : this.settledThisTurn.get(key));
    if (running === undefined) return undefined;
    this.coalesced++;
    return running.promise as Promise<T>;
  }

  /** Starts `load` as the flight of `key`. */
  run<T>(key: string, load: (flight: Flight) => Promise<T>): Promise<T> {
    const flight = new Flight();
    const running = load(flight);
    flight.promise = running;
    this.inflight.set(key, flight);
    const settle = (): void => {
      if (this.inflight.get(key) === flight) this.inflight.delete(key);
    };
    running.then(() => {
      settle();
      if (flight.stored && !flight.superseded) this.keepForThisTurn(key, flight);
    }, settle);
    return running;
  }

  private keepForThisTurn(key: string, flight: Flight): void {
    this.settledThisTurn.set(key, flight);
    if (this.clearScheduled) return;
    this.clearScheduled = true;
    setImmediate(() => {
      this.clearScheduled = false;
      this.settledThisTurn.clear();
    });
  }

  /**
   * Early refresh of a fresh entry: one background load per key (none while a load of `key` runs).
   * Callers that miss meanwhile join it: its value, or (when `load` answers undefined: another
   * instance holds the lock and refreshes) `cached`, the value that was fresh when it started.
   */
  refresh<T>(key: string, cached: T, load: (flight: Flight) => Promise<T | undefined>): void {
    if (this.inflight.has(key)) return;
    const flight = new Flight(true);
    const running = load(flight);
    flight.promise = running.then((value) => (value === undefined ? cached : value));
    this.inflight.set(key, flight);
    const settle = (): void => {
      if (this.inflight.get(key) === flight) this.inflight.delete(key);
    };
    flight.promise.then(settle, (error: unknown) => {
      settle();
      this.logger.warn(`Early refresh failed in namespace "${this.namespace}"; the cached value stays until it expires: ${describeError(error)}`);
    });
  }

  /** A write, invalidation or clear makes a running load's result possibly stale: it must not be stored. */
  supersede(key: string): void {
    const flight = this.inflight.get(key);
    this.settledThisTurn.delete(key);
    if (flight === undefined) return;
    flight.superseded = true;
    this.inflight.delete(key);
  }

  /** Every running load (a tag invalidation or a clear may concern any key). */
  supersedeAll(): void {
    for (const flight of this.inflight.values()) flight.superseded = true;
    this.inflight.clear();
    this.settledThisTurn.clear();
  }
}
