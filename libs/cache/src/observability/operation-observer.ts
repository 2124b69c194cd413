import { Logger } from '@nestjs/common';
import { CacheError } from '../errors/cache-error';
import { CACHE_OPERATIONS, OP } from '../tracing/cache-operations';
import { logLine } from '../logging/log-line';
import { errorName, errorReason } from '../logging/error-fields';
import {
  anyTraced, CacheOperationContext, CacheOperationOutcome, LATENCY_CHANNEL, OPERATION_CHANNELS, operationScope, SubscriptionWatcher,
  subscriptionWatchers, traced,
} from '../tracing/cache-channels';

export interface ObserverSettings {
  /** Publish timed calls on `nest-cachekit:latency` (`observability.metrics`). */
  readonly metrics: boolean;
  /** Publish calls on the operations' tracing channels (`observability.tracing`). */
  readonly tracing: boolean;
  /** Time 1 call in this many on sampled backends. */
  readonly sampleEvery: number;
  /** Sample latency (memory, and tiers whose reads are mostly L1 hits); default: the backend is synchronous. Others are paced. */
  readonly sampled?: boolean;
  /** One debug line per operation. */
  readonly logOperations: boolean;
  readonly logger: Logger;
}

type Outcome = (value: unknown) => CacheOperationOutcome | undefined;
const LOG_INTERVAL_MS = 10_000;

/**
 * The one-line hook at the top of each public `CacheNamespace` method:
 *
 *   if (this.observer.due(OP.get)) return this.observer.observe(OP.get, () => this.get(key), HIT_OR_MISS);
 *
 * `due()` says whether this call is published (see `tracing/cache-channels.ts`); if so, `observe`
 * re-enters the method with `due()` answering false for the synchronous part of that call, and
 * publishes it around the returned promise. On the hot path `due()` is one decrement: the rest is
 * decided when the countdown runs out, which is
 * - every call while a tracing channel of the cache has a subscriber (each call is published to its
 *   operation's channel, and timed), or while every call is logged or timed (`latencySampleEvery: 1`);
 * - with only `nest-cachekit:latency` listened to: 1 call in `sampleEvery` on memory and tiered
 *   namespaces (one clock read costs about as much as a hit), and on remote backends every call, each
 *   operation at most once per 0.1 ms;
 * - with no subscriber at all, every `sampleEvery` calls, only to look again.
 * A subscriber that arrives later is seen on the next call: the channels tell the observers.
 */
export class OperationObserver implements SubscriptionWatcher {
  private passing = false;
  private countdown = 1;
  /** What the last decision chose for the call it let through. */
  private callTraced = false;
  /** Calls since the last timed one, while deciding per call for another operation's subscriber. */
  private sinceSample = 0;
  /** The published call whose synchronous part is running (`markTier`). */
  private current: CacheOperationContext | null = null;
  /** The namespace these calls run on (`CacheOperationContext.cache`); bound once it exists. */
  private subject: object | undefined = undefined;
  private readonly paced: boolean;
  private readonly lastTimed = new Float64Array(CACHE_OPERATIONS.length).fill(-Infinity);
  private readonly metrics: boolean;
  private readonly tracing: boolean;
  private readonly sampleEvery: number;
  private readonly logOperations: boolean;
  private readonly logger: Logger;
  private lastFailureLogAt = -Infinity;
  private suppressedFailures = 0;

  constructor(
    readonly namespace: string,
    readonly backend: string,
    private readonly synchronous: boolean,
    settings: ObserverSettings,
  ) {
    this.metrics = settings.metrics;
    this.tracing = settings.tracing;
    this.sampleEvery = settings.sampleEvery;
    this.logOperations = settings.logOperations;
    this.logger = settings.logger;
    this.paced = !(settings.sampled ?? synchronous);
    if (this.metrics || this.tracing) subscriptionWatchers.add(this);
  }

  /** Publishes nothing: for namespaces built outside a cache module. */
  static disabled(namespace: string, backend: string): OperationObserver {
    return new OperationObserver(namespace, backend, true, {
      metrics: false, tracing: false, sampleEvery: Number.MAX_SAFE_INTEGER, logOperations: false, logger: new Logger('CacheNamespace'),
    });
  }

  /** Something subscribed to a channel of the cache: decide on the next call. */
  subscribed(): void {
    this.countdown = 1;
  }

  /** Stops listening for subscribers (the module is shutting down). */
  close(): void {
    subscriptionWatchers.delete(this);
  }

  /** The namespace the published messages name as `cache`. */
  bind(namespace: object): void {
    this.subject = namespace;
  }

  /** Whether this namespace's calls may be published to the tracing channels; tiers mark `cache.tier` only then. */
  get traced(): boolean {
    return this.tracing;
  }

  /** Records on the published call whose synchronous part is running which tier answered. */
  markTier(tier: string): void {
    if (this.current !== null) this.current.tier = tier;
  }

  /** Whether this call is published. The hot path is one decrement. */
  due(operation: number): boolean {
    if (--this.countdown > 0) return false;
    return this.decide(operation);
  }

  private decide(operation: number): boolean {
    if (this.passing) {
      // A call made inside an observed one (its re-entry): never observed twice; decide again next call.
      this.countdown = 1;
      return false;
    }
    // A getOrSet is published for its loader's channel too.
    this.callTraced = this.tracing && (traced(operation) || (operation === OP.getOrSet && traced(OP.load)));
    const timed = this.metrics && LATENCY_CHANNEL.hasSubscribers;
    if (this.callTraced || this.logOperations || (timed && this.sampleEvery === 1)) {
      this.countdown = 1;
      return true;
    }
    if (timed && this.paced) {
      // Remote backends: each operation timed at most once per PACE_MS, so every call is timed at a
      // modest rate, and a few thousand a second at most under load (a timed call costs ~0.5 µs).
      this.countdown = 1;
      const now = performance.now();
      if (now - this.lastTimed[operation] < PACE_MS) return false;
      this.lastTimed[operation] = now;
      return true;
    }
    if (this.tracing && anyTraced()) {
      // Another operation's channel is listened to: decide per call, sampling this one's latency apart.
      this.countdown = 1;
      if (!timed || ++this.sinceSample < this.sampleEvery) return false;
      this.sinceSample = 0;
      return true;
    }
    // + 1: the observed call's own re-entry counts down once.
    this.countdown = this.sampleEvery + (timed ? 1 : 0);
    this.sinceSample = 0;
    return timed;
  }

  observe<T>(operation: number, call: () => Promise<T>, outcome?: Outcome): Promise<T> {
    if (this.synchronous && !this.callTraced && !this.logOperations) {
      // A sampled call on a synchronous backend: its work is done when call() returns, so time that
      // and hand back the promise untouched (a .then here would cost more than the operation).
      const started = performance.now();
      this.passing = true;
      try {
        return call();
      } finally {
        this.passing = false;
        const message = new CacheOperationContext(this.namespace, this.backend, CACHE_OPERATIONS[operation], this.subject);
        message.seconds = (performance.now() - started) / 1000;
        LATENCY_CHANNEL.publish(message);
      }
    }
    return this.run(operation, call, outcome);
  }

  /** `getOrSet`: as `observe`, plus the loader call as a `load` operation (its own message, under this one). */
  observeGetOrSet<T>(
    loader: () => T | Promise<T>,
    call: (loader: () => T | Promise<T>) => Promise<T>,
  ): Promise<T> {
    // A non-function loader goes through untouched, so that getOrSet rejects it as usual.
    if (typeof loader !== 'function') return this.run(OP.getOrSet, () => call(loader), undefined);
    let loaded = false;
    const published = this.callTraced;
    return this.run(
      OP.getOrSet,
      (message) => call(() => {
        loaded = true;
        return this.runLoader(loader, published ? message : undefined);
      }),
      () => (loaded ? 'miss' : 'hit'),
    );
  }

  /**
   * `getOrSetSync` (a decorated synchronous method): publishes the call, and the loader as `load`
   * under it when it runs; everything is done when `call` returns.
   */
  observeGetOrSetSync<T>(loader: () => T, call: (loader: () => T) => T): T {
    const published = this.callTraced;
    const message = this.message(OP.getOrSet, undefined);
    let loaded = false;
    const observedLoader = (): T => {
      loaded = true;
      const publishLoad = published && traced(OP.load);
      const load = this.message(OP.load, published ? message : undefined);
      const started = performance.now();
      try {
        const value = publishLoad ? OPERATION_CHANNELS[OP.load].start.runStores(load, loader) : loader();
        this.settledSync(OP.load, load, started, publishLoad, 'ok');
        return value;
      } catch (error) {
        this.settledSync(OP.load, load, started, publishLoad, 'error', error);
        throw error;
      }
    };
    const started = performance.now();
    this.passing = true;
    this.current = message;
    try {
      const run = () => call(observedLoader);
      const value = published ? OPERATION_CHANNELS[OP.getOrSet].start.runStores(message, run) : run();
      this.settledSync(OP.getOrSet, message, started, published, loaded ? 'miss' : 'hit');
      return value;
    } catch (error) {
      this.settledSync(OP.getOrSet, message, started, published, 'error', error);
      throw error;
    } finally {
      this.passing = false;
      this.current = null;
    }
  }

  /** A backend failure: logged at error, at most once per 10 s per namespace (with the count of those held back). */
  failed(operation: string, cause: unknown): void {
    // The namespace wraps what is not a CacheError already into a BackendUnavailableError; describe that.
    const error = cause instanceof CacheError ? cause : { name: 'BackendUnavailableError', code: 'CACHE_BACKEND_UNAVAILABLE', cause };
    const now = Date.now();
    if (now - this.lastFailureLogAt < LOG_INTERVAL_MS) {
      this.suppressedFailures++;
      return;
    }
    this.lastFailureLogAt = now;
    const suppressed = this.suppressedFailures;
    this.suppressedFailures = 0;
    this.logger.error(logLine('cache.backend_failure', {
      namespace: this.namespace, backend: this.backend, operation, error: errorName(error),
      reason: errorReason(error), suppressed: suppressed > 0 ? suppressed : undefined,
    }));
  }

  private message(operation: number, parent: CacheOperationContext | undefined): CacheOperationContext {
    return new CacheOperationContext(this.namespace, this.backend, CACHE_OPERATIONS[operation], this.subject, parent);
  }

  private run<T>(operation: number, call: (message: CacheOperationContext) => Promise<T>, outcome: Outcome | undefined): Promise<T> {
    const published = this.callTraced;
    const message = this.message(operation, undefined);
    const started = performance.now();
    let result: Promise<T>;
    this.passing = true;
    this.current = message;
    try {
      result = published ? this.enter(operation, message, () => call(message)) : call(message);
    } catch (error) {
      result = Promise.reject(error);
    } finally {
      this.passing = false;
      this.current = null;
    }
    if (published) OPERATION_CHANNELS[operation].end.publish(message);
    // Observe the settled promise beside the caller instead of in front of it: the caller awaits the
    // operation's own promise (one hop fewer on every published call), and this branch swallows
    // nothing, since the caller gets the rejection.
    result.then(
      (value) => this.settled(operation, message, started, published, outcome?.(value) ?? 'ok'),
      (error: unknown) => this.settled(operation, message, started, published, 'error', error),
    );
    return result;
  }

  private runLoader<T>(loader: () => T | Promise<T>, parent: CacheOperationContext | undefined): Promise<T> {
    const published = parent !== undefined && traced(OP.load);
    const message = this.message(OP.load, parent);
    const started = performance.now();
    let result: Promise<T>;
    try {
      result = Promise.resolve(published ? this.enter(OP.load, message, loader) : loader());
    } catch (error) {
      result = Promise.reject(error);
    }
    if (published) OPERATION_CHANNELS[OP.load].end.publish(message);
    return result.then(
      (value) => {
        this.settled(OP.load, message, started, published, 'ok');
        return value;
      },
      (error: unknown) => {
        this.settled(OP.load, message, started, published, 'error', error);
        throw error;
      },
    );
  }

  /**
   * Runs a published call inside the start channel's bound stores (an OpenTelemetry subscriber makes
   * its span the active one there). On asynchronous backends also inside `operationScope`, so that a
   * tier can mark which one answered after an await (`markCacheTier`).
   */
  private enter<R>(operation: number, message: CacheOperationContext, call: () => R): R {
    const start = OPERATION_CHANNELS[operation].start;
    if (this.synchronous) return start.runStores(message, call);
    return operationScope.run(message, () => start.runStores(message, call));
  }

  private settledSync(operation: number, message: CacheOperationContext, started: number, published: boolean, outcome: CacheOperationOutcome, error?: unknown): void {
    if (published) OPERATION_CHANNELS[operation].end.publish(message);
    this.settled(operation, message, started, published, outcome, error);
  }

  private settled(operation: number, message: CacheOperationContext, started: number, published: boolean, outcome: CacheOperationOutcome, error?: unknown): void {
    message.seconds = (performance.now() - started) / 1000;
    message.outcome = outcome;
    if (outcome === 'error') message.error = error;
    if (published) {
      const channels = OPERATION_CHANNELS[operation];
      if (outcome === 'error') channels.error.publish(message);
      channels.asyncStart.publish(message);
      channels.asyncEnd.publish(message);
    }
    if (this.metrics) LATENCY_CHANNEL.publish(message);
    if (this.logOperations) {
      this.logger.debug(logLine('cache.operation', {
        namespace: this.namespace, backend: this.backend, operation: CACHE_OPERATIONS[operation], outcome,
        durationMs: Math.round(message.seconds * 1e6) / 1e3, error: error === undefined ? undefined : errorName(error),
      }));
    }
  }
}

/** The least time between two timed calls of one operation on a remote backend. */
const PACE_MS = 0.1;

/** For `observe`: a lookup's outcome. */
export const HIT_OR_MISS: Outcome = (value) => (value === undefined ? 'miss' : 'hit');
export const FOUND_OR_NOT: Outcome = (value) => (value === true ? 'hit' : 'miss');
