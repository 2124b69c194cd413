import { BackendEntry, BackendStats, BackendContext, BackendHealth, CacheBackend, CacheBackendFactory } from '../cache-backend.interface';
import { BackendUnavailableError } from '../../errors/backend-unavailable.error';
import { InvalidArgumentError } from '../../errors/invalid-argument.error';

/** Faults applied to every call of a wrapped backend. All default to none. */
export interface FaultInjectionOptions {
  /** Added before each call, in ms. */
  latencyMs?: number;
  /** Share of calls (0–1) that fail with `BackendUnavailableError`. */
  failureRate?: number;
  /** Source of randomness for `failureRate` (inject a seeded one for reproducible drills). */
  random?: () => number;
}

type Mode = { kind: 'healthy' } | { kind: 'disconnected' } | { kind: 'timeout'; afterMs: number };

/** Calls counted by the wrapper, by outcome. */
export interface FaultInjectionCounters {
  calls: number;
  failed: number;
  delayed: number;
}

/**
 * Wraps any backend and injects latency, errors, disconnects and timeouts: for tests and chaos drills
 * (`backends: { flaky: new FaultInjectionBackendFactory(new RedisBackendFactory(...)) }`). Faults can
 * be switched at run time (`disconnect()`, `timeouts(ms)`, `heal()`). Failures are
 * `BackendUnavailableError`s, which is what a real backend throws when its store is unreachable.
 */
export class FaultInjectionBackend implements CacheBackend {
  readonly name: string;
  readonly storesLiveValues: boolean;
  readonly invalidateTag?: (tag: string) => Promise<number>;
  readonly counters: FaultInjectionCounters = { calls: 0, failed: 0, delayed: 0 };
  private mode: Mode = { kind: 'healthy' };
  private latencyMs: number;
  private failureRate: number;
  private readonly random: () => number;

  constructor(private readonly inner: CacheBackend, options: FaultInjectionOptions = {}, private readonly namespace = 'fault-injection') {
    this.name = inner.name;
    this.storesLiveValues = inner.storesLiveValues;
    this.latencyMs = checkLatency(options.latencyMs ?? 0);
    this.failureRate = checkRate(options.failureRate ?? 0);
    this.random = options.random ?? Math.random;
    if (typeof inner.invalidateTag === 'function') {
      this.invalidateTag = (tag) => this.call('invalidateTag', () => inner.invalidateTag!(tag));
    }
  }

  /** Every call fails at once, like a refused connection. */
  disconnect(): void {
    this.mode = { kind: 'disconnected' };
  }

  /** Every call waits `afterMs`, then fails, like a command timeout against a hung server. */
  timeouts(afterMs: number): void {
    this.mode = { kind: 'timeout', afterMs: checkLatency(afterMs) };
  }

  /** Sets the added latency (ms) of every call. */
  latency(ms: number): void {
    this.latencyMs = checkLatency(ms);
  }

  /** Sets the share of calls (0–1) that fail. */
  failures(rate: number): void {
    this.failureRate = checkRate(rate);
  }

  /** Back to normal: no disconnect, timeout, latency or random failure. */
  heal(): void {
    this.mode = { kind: 'healthy' };
    this.latencyMs = 0;
    this.failureRate = 0;
  }

  get(key: string): Promise<unknown> {
    return this.call('get', () => this.inner.get(key));
  }

  set(key: string, value: unknown, ttlMs: number, sizeBytes: number, tags?: readonly string[]): Promise<void> {
    return this.call('set', () => this.inner.set(key, value, ttlMs, sizeBytes, tags));
  }

  delete(key: string): Promise<boolean> {
    return this.call('delete', () => this.inner.delete(key));
  }

  has(key: string): Promise<boolean> {
    return this.call('has', () => this.inner.has(key));
  }

  mget(keys: readonly string[]): Promise<unknown[]> {
    return this.call('mget', () => this.inner.mget(keys));
  }

  mset(entries: readonly BackendEntry[]): Promise<void> {
    return this.call('mset', () => this.inner.mset(entries));
  }

  clear(): Promise<number> {
    return this.call('clear', () => this.inner.clear());
  }

  stats(): BackendStats {
    return this.inner.stats?.() ?? {};
  }

  private async call<T>(operation: string, run: () => T | Promise<T>): Promise<T> {
    this.counters.calls++;
    const mode = this.mode;
    if (mode.kind === 'disconnected') throw this.fail(operation, 'injected disconnect');
    if (mode.kind === 'timeout') {
      await delay(mode.afterMs);
      throw this.fail(operation, `injected timeout after ${mode.afterMs} ms`);
    }
    if (this.latencyMs > 0) {
      this.counters.delayed++;
      await delay(this.latencyMs);
    }
    if (this.failureRate > 0 && this.random() < this.failureRate) throw this.fail(operation, 'injected failure');
    return run();
  }

  private fail(operation: string, reason: string): BackendUnavailableError {
    this.counters.failed++;
    return new BackendUnavailableError(this.name, this.namespace, operation, new Error(reason));
  }
}

/**
 * A factory that wraps every backend another factory builds; switching a fault on the factory
 * switches it on every namespace it serves.
 */
export class FaultInjectionBackendFactory implements CacheBackendFactory {
  readonly backends: FaultInjectionBackend[] = [];

  constructor(private readonly inner: CacheBackendFactory, private readonly options: FaultInjectionOptions = {}) {}

  create(context: BackendContext): FaultInjectionBackend {
    const backend = new FaultInjectionBackend(this.inner.create(context), this.options, context.namespace);
    this.backends.push(backend);
    return backend;
  }

  disconnect(): void {
    for (const b of this.backends) b.disconnect();
  }

  timeouts(afterMs: number): void {
    for (const b of this.backends) b.timeouts(afterMs);
  }

  latency(ms: number): void {
    for (const b of this.backends) b.latency(ms);
  }

  failures(rate: number): void {
    for (const b of this.backends) b.failures(rate);
  }

  heal(): void {
    for (const b of this.backends) b.heal();
  }

  connect(): Promise<void> | void {
    return this.inner.connect?.();
  }

  health(): Promise<BackendHealth> {
    return this.inner.health?.() ?? Promise.resolve({ status: 'up', checked: false });
  }

  close(): Promise<void> | void {
    return this.inner.close?.();
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function checkLatency(ms: number): number {
  if (!Number.isFinite(ms) || ms < 0 || ms > 600_000) throw new InvalidArgumentError(`FaultInjectionBackend: a delay must be 0–600000 ms (got ${ms})`);
  return ms;
}

function checkRate(rate: number): number {
  if (!(rate >= 0 && rate <= 1)) throw new InvalidArgumentError(`FaultInjectionBackend: failureRate must be between 0 and 1 (got ${rate})`);
  return rate;
}
