import { Logger } from '@nestjs/common';
import { BackendUnavailableError } from '../errors/backend-unavailable.error';
import { CacheError } from '../errors/cache-error';
import { ValueTooLargeError } from '../errors/value-too-large.error';
import { CacheEvents } from '../events/cache-events';
import { StoredKey } from '../keys/namespace-keys';
import { logLine } from '../logging/log-line';
import { PathContext } from './path-context';
import { ReadPath } from './read-path';
import { Flight, SingleFlight } from './single-flight';

const WARN_INTERVAL_MS = 10_000;

/**
 * `getOrSet` past the namespace's entry checks: a load of the key already running is joined first;
 * otherwise a counted lookup through the read path; on a hit
 * due for it (two tiers), an early refresh in the background; on a miss, one load per key in this
 * process (`SingleFlight`), run as the read path runs loads (directly, or under the tiers' lock and
 * fail-safe), its value stored unless superseded or refused by `cacheIf`. A cache failure (backend
 * down, value too large) never fails the caller: the loader's value is served uncached, with a
 * warning at most every 10 s.
 */
export class GetSetHandler {
  readonly flights: SingleFlight;
  private readonly logger = new Logger('CacheNamespace');
  private lastWarnAt = 0;

  constructor(private readonly reads: ReadPath, private readonly context: PathContext, private readonly events: CacheEvents) {
    this.flights = new SingleFlight(context.name);
  }

  async handle<T>(
    key: StoredKey, loader: () => T | Promise<T>, ttlMs: number, cacheIf?: (value: unknown) => boolean, tags?: readonly string[],
  ): Promise<T> {
    const loading = this.flights.joinLoad<T>(key);
    if (loading !== undefined) return loading;
    let cached: T | undefined;
    try {
      cached = (await this.reads.lookup(key)) as T | undefined;
    } catch (error) {
      if (!(error instanceof BackendUnavailableError)) throw error;
      this.warnDegraded(error);
    }
    if (cached !== undefined) {
      if (this.reads.refreshDue(key)) {
        this.flights.refresh(key, cached, (flight) => this.reads.refresh(key, () => this.loadAndStore(key, loader, ttlMs, flight, cacheIf, tags)));
      }
      return cached;
    }
    const running = this.flights.join<T>(key);
    if (running !== undefined) return running;
    return this.flights.run(key, (flight) => this.reads.load(key, () => this.loadAndStore(key, loader, ttlMs, flight, cacheIf, tags)));
  }

  private async loadAndStore<T>(
    key: StoredKey, loader: () => T | Promise<T>, ttlMs: number, flight: Flight, cacheIf?: (value: unknown) => boolean, tags?: readonly string[],
  ): Promise<T> {
    const value = await loader();
    if (value === undefined || flight.superseded || (cacheIf && !cacheIf(value))) return value;
    const { store, counters, name } = this.context;
    let prepared: { stored: unknown; size: number };
    try {
      prepared = store.prepare(value, 'value', key);
    } catch (error) {
      if (!(error instanceof ValueTooLargeError)) throw error;
      this.warnDegraded(error);
      return value;
    }
    try {
      await store.set(key, prepared.stored, ttlMs, prepared.size, tags);
      flight.stored = true;
      counters.sets++;
      if (this.events.has('set')) this.events.emit('set', { namespace: name, key, ttlMs });
    } catch (error) {
      const failure = this.context.fail('set', error);
      if (!(failure instanceof BackendUnavailableError) && !(failure instanceof ValueTooLargeError)) throw failure;
      this.warnDegraded(failure);
    }
    return value;
  }

  private warnDegraded(error: CacheError): void {
    const now = Date.now();
    if (now - this.lastWarnAt < WARN_INTERVAL_MS) return;
    this.lastWarnAt = now;
    this.logger.warn(logLine('cache.fallback', { namespace: this.context.name, backend: this.context.store.name, operation: 'getOrSet', served: 'loader-uncached', reason: error.code }));
  }
}
