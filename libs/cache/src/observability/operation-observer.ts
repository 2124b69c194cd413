import { Logger } from '@nestjs/common';
import { Context, context, Span, SpanStatusCode, trace } from '@opentelemetry/api';
import { CacheError } from '../errors/cache-error';
import { CACHE_OPERATIONS, OP } from '../metrics/cache-operations';
import { OperationTimings } from '../metrics/operation-timings';
import { CacheTracer } from '../tracing/cache-tracer';
import { markCacheTier } from '../tracing/mark-cache-tier';
import { logLine } from '../logging/log-line';
import { errorName, errorReason } from '../logging/error-fields';

export interface ObserverSettings {
  /** Null when metrics are off. */
  readonly timings: OperationTimings | null;
  /** Null when tracing is off. */
  readonly tracer: CacheTracer | null;
  /** Time 1 call in this many on sampled backends; every call on the others. */
  readonly sampleEvery: number;
  /** Sample latency (memory, and tiers whose reads are mostly L1 hits); default: the backend is synchronous. */
  readonly sampled?: boolean;
  /** One debug line per operation. */
  readonly logOperations: boolean;
  readonly logger: Logger;
}

type Outcome = (value: unknown) => string | undefined;
const LOG_INTERVAL_MS = 10_000;

/**
 * The one-line hook at the top of each public `CacheNamespace` method:
 *
 *   if (this.observer.due(OP.get)) return this.observer.observe(OP.get, () => this.get(key), HIT);
 *
 * `due()` says whether this call is timed, traced or logged; if so, `observe` re-enters the method
 * with `due()` answering false for the synchronous part of that call, and times, traces and logs it
 * around the returned promise. On the memory hit path with no SDK, `due()` is a few field reads and
 * a decrement: latency is sampled (1 in `sampleEvery`) there, since one clock read costs about as
 * much as the hit itself; every call to an asynchronous backend is timed.
 */
export class OperationObserver {
  private passing = false;
  private countdown: number;
  /** Every call is observed (an SDK records, or every call is timed): `due()` decides on each. */
  private perCall = false;
  private readonly everyCall: boolean;
  /** Remote backends with metrics: time-paced latency samples (see `decide`). */
  private readonly paced: boolean;
  private readonly lastTimed = new Float64Array(CACHE_OPERATIONS.length).fill(-Infinity);
  private readonly synchronous: boolean;
  private readonly timings: OperationTimings | null;
  private readonly tracer: CacheTracer | null;
  private readonly logger: Logger;
  private lastFailureLogAt = -Infinity;
  private suppressedFailures = 0;

  constructor(
    readonly namespace: string,
    readonly backend: string,
    synchronous: boolean,
    private readonly settings: ObserverSettings,
  ) {
    this.timings = settings.timings;
    this.tracer = settings.tracer;
    this.logger = settings.logger;
    this.synchronous = synchronous;
    const sampled = settings.sampled ?? synchronous;
    // `latencySampleEvery: 1` asks for every call everywhere; otherwise remote backends are paced.
    this.everyCall = settings.logOperations || (settings.timings !== null && settings.sampleEvery === 1);
    this.paced = settings.timings !== null && !sampled && !this.everyCall;
    // The first call decides (is an SDK recording? is every call timed?).
    this.countdown = 1;
  }

  /** Observes nothing: for namespaces built outside a cache module. */
  static disabled(namespace: string, backend: string): OperationObserver {
    return new OperationObserver(namespace, backend, true, {
      timings: null, tracer: null, sampleEvery: Number.MAX_SAFE_INTEGER, logOperations: false, logger: new Logger('CacheNamespace'),
    });
  }

  /** The latency histograms the exporter reads; null when metrics are off. */
  get operationTimings(): OperationTimings | null {
    return this.timings;
  }

  /** Whether this namespace makes spans (tracing on); tiers mark `cache.tier` only then, never on an app's own span. */
  get traced(): boolean {
    return this.tracer !== null;
  }

  /** Records on the span of the call being observed which tier answered; a no-op outside one or without tracing. */
  markTier(tier: string): void {
    if (this.passing && this.tracer !== null) markCacheTier(tier);
  }

  /**
   * Whether this call is observed. The hot path is one decrement: everything else is decided when
   * the countdown runs out, which is every call while an SDK records or every call is timed, and 1
   * call in `sampleEvery` otherwise.
   */
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
    // Calling one by one, the tracer spaces its own look at the global provider; sampling, look each time.
    const recording = this.tracer !== null && (this.perCall ? this.tracer.recording() : this.tracer.refreshed());
    this.perCall = recording || this.everyCall || this.paced;
    if (this.perCall) this.countdown = 1;
    if (recording || this.everyCall) return true;
    if (this.paced) {
      // Remote backends: each operation timed at most once per PACE_MS, so every call is timed at a
      // modest rate, and a few thousand a second at most under load (a timed call costs ~0.5 µs).
      const now = performance.now();
      if (now - this.lastTimed[operation] < PACE_MS) return false;
      this.lastTimed[operation] = now;
      return true;
    }
    // + 1: the observed call's own re-entry counts down once.
    this.countdown = this.settings.sampleEvery + 1;
    return this.timings !== null;
  }

  observe<T>(operation: number, call: () => Promise<T>, outcome?: Outcome): Promise<T> {
    if (this.synchronous && !this.settings.logOperations && (this.tracer === null || !this.tracer.recording())) {
      // A sampled call on a synchronous backend: its work is done when call() returns, so time that
      // and hand back the promise untouched (a .then here would cost more than the operation).
      const started = performance.now();
      this.passing = true;
      try {
        return call();
      } finally {
        this.passing = false;
        this.timings?.record(operation, (performance.now() - started) / 1000);
      }
    }
    return this.run(operation, () => call(), outcome, undefined);
  }

  /**
   * `getOrSetSync` (a decorated synchronous method): times, traces and logs the call, a child span
   * around the loader when it runs; everything is done when `call` returns.
   */
  observeGetOrSetSync<T>(loader: () => T, call: (loader: () => T) => T): T {
    const recording = this.tracer !== null && this.tracer.recording();
    const span = recording ? this.tracer!.start(SPAN_NAMES[OP.getOrSet], this.attributes(OP.getOrSet)) : undefined;
    const parent = span === undefined ? undefined : trace.setSpan(context.active(), span);
    let loaded = false;
    const observedLoader = (): T => {
      loaded = true;
      const loadSpan = parent === undefined ? undefined : this.tracer!.start(SPAN_NAMES[OP.load], this.attributes(OP.load), parent);
      const started = performance.now();
      try {
        const value = loadSpan === undefined ? loader() : context.with(trace.setSpan(parent!, loadSpan), loader);
        this.finish(OP.load, started, loadSpan, 'ok');
        return value;
      } catch (error) {
        this.finish(OP.load, started, loadSpan, 'error', error);
        throw error;
      }
    };
    const started = performance.now();
    this.passing = true;
    try {
      const value = parent === undefined ? call(observedLoader) : context.with(parent, () => call(observedLoader));
      this.finish(OP.getOrSet, started, span, loaded ? 'miss' : 'hit');
      return value;
    } catch (error) {
      this.finish(OP.getOrSet, started, span, 'error', error);
      throw error;
    } finally {
      this.passing = false;
    }
  }

  /** `getOrSet`: as `observe`, plus a child span and a `load` timing around the loader, when it runs. */
  observeGetOrSet<T>(
    loader: () => T | Promise<T>,
    call: (loader: () => T | Promise<T>) => Promise<T>,
  ): Promise<T> {
    // A non-function loader goes through untouched, so that getOrSet rejects it as usual.
    if (typeof loader !== 'function') return this.run(OP.getOrSet, () => call(loader), undefined, undefined);
    let loaded = false;
    return this.run(
      OP.getOrSet,
      (parent) => call(() => {
        loaded = true;
        return this.runLoader(loader, parent);
      }),
      () => (loaded ? 'miss' : 'hit'),
      undefined,
    );
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

  private run<T>(operation: number, call: (parent: Context | undefined) => Promise<T>, outcome: Outcome | undefined, parent: Context | undefined): Promise<T> {
    // The span's name and attributes are built only when an SDK records (not on every timed call).
    const span = this.tracer !== null && this.tracer.recording()
      ? this.tracer.start(SPAN_NAMES[operation], this.attributes(operation), parent)
      : undefined;
    const spanContext = span === undefined ? undefined : trace.setSpan(parent ?? context.active(), span);
    const started = performance.now();
    let result: Promise<T>;
    this.passing = true;
    try {
      result = spanContext === undefined ? call(undefined) : context.with(spanContext, call, undefined, spanContext);
    } catch (error) {
      result = Promise.reject(error);
    } finally {
      this.passing = false;
    }
    // Observe the settled promise beside the caller instead of in front of it: the caller awaits the
    // operation's own promise (one hop fewer on every timed call), and this branch swallows nothing,
    // since the caller gets the rejection.
    result.then(
      (value) => this.finish(operation, started, span, outcome?.(value) ?? 'ok'),
      (error: unknown) => this.finish(operation, started, span, 'error', error),
    );
    return result;
  }

  private runLoader<T>(loader: () => T | Promise<T>, parent: Context | undefined): Promise<T> {
    const span = parent === undefined ? undefined : this.tracer?.start('cache.load', this.attributes(OP.load), parent);
    const started = performance.now();
    let result: Promise<T>;
    try {
      result = Promise.resolve(span === undefined ? loader() : context.with(trace.setSpan(parent!, span), loader));
    } catch (error) {
      result = Promise.reject(error);
    }
    return result.then(
      (value) => {
        this.finish(OP.load, started, span, 'ok');
        return value;
      },
      (error: unknown) => {
        this.finish(OP.load, started, span, 'error', error);
        throw error;
      },
    );
  }

  private attributes(operation: number): Record<string, string> {
    return { 'cache.namespace': this.namespace, 'cache.backend': this.backend, 'cache.operation': CACHE_OPERATIONS[operation] };
  }

  private finish(operation: number, started: number, span: Span | undefined, outcome: string, error?: unknown): void {
    const seconds = (performance.now() - started) / 1000;
    this.timings?.record(operation, seconds);
    if (span !== undefined) {
      if (outcome === 'hit' || outcome === 'miss') span.setAttribute('cache.hit', outcome === 'hit');
      if (error !== undefined) {
        // Name and code only: a message may quote what the caller passed.
        span.recordException({ name: errorName(error), message: errorReason(error) });
        span.setStatus({ code: SpanStatusCode.ERROR, message: errorReason(error) });
      }
      span.end();
    }
    if (this.settings.logOperations) {
      this.logger.debug(logLine('cache.operation', {
        namespace: this.namespace, backend: this.backend, operation: CACHE_OPERATIONS[operation], outcome,
        durationMs: Math.round(seconds * 1e6) / 1e3, error: error === undefined ? undefined : errorName(error),
      }));
    }
  }
}

const SPAN_NAMES = CACHE_OPERATIONS.map((operation) => `cache.${operation}`);
/** The least time between two timed calls of one operation on a remote backend. */
const PACE_MS = 0.1;

/** For `observe`: a lookup's outcome. */
export const HIT_OR_MISS: Outcome = (value) => (value === undefined ? 'miss' : 'hit');
export const FOUND_OR_NOT: Outcome = (value) => (value === true ? 'hit' : 'miss');
