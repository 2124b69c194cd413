import { LoaderTimeoutError } from '../errors/loader-timeout.error';
import { isClientError } from '../errors/client-error';

/** The cross-instance lock a tiered Redis namespace offers (see `RedisLock`). */
export interface LoadLock {
  acquire(key: string, ttlMs: number): Promise<string | undefined>;
  release(key: string, token: string): Promise<boolean>;
  extend(key: string, token: string, ttlMs: number): Promise<boolean>;
  isHeld(key: string): Promise<boolean>;
}

export type StaleReason = 'loader-error' | 'loader-timeout' | 'backend-down';

export interface ResilientLoadPlan<T> {
  namespace: string;
  key: string;
  /** Runs the loader and stores its value (the namespace's own load). */
  load: () => Promise<T>;
  /** A fresh cached value, read through every tier (used after taking the lock and while waiting). */
  lookup: () => Promise<T | undefined>;
  /** A value past its TTL but within grace, if any. */
  stale: () => T | undefined;
  reportStale: (reason: StaleReason) => void;
  /** 0 = none. Past it, a stale value answers while the load goes on in the background. */
  softTimeoutMs: number;
  /** 0 = none. Past it, the caller gets the stale value or `LoaderTimeoutError`; the load still finishes and is stored. */
  hardTimeoutMs: number;
  lock?: { lock: LoadLock; ttlMs: number; pollMs: number };
}

/**
 * An early refresh (the cached value is still fresh): reload only if this instance gets the key's
 * lock at once, skipping the re-read; if another instance holds it, that one is refreshing already.
 */
export async function refreshLoad<T>(plan: ResilientLoadPlan<T>): Promise<T | undefined> {
  const locking = plan.lock;
  if (locking === undefined) return plan.load();
  const token = await locking.lock.acquire(plan.key, locking.ttlMs);
  if (token === undefined) return undefined;
  try {
    return await plan.load();
  } finally {
    await locking.lock.release(plan.key, token).catch(() => undefined);
  }
}

/**
 * A `getOrSet` miss in a tiered namespace: across instances only the holder of the key's lock runs
 * the loader, the others poll the cache for its value (never longer than the lock TTL, after which
 * they load themselves: a holder that died cannot block them); the loader runs under the soft and
 * hard timeouts, and a failure or timeout answers with a stale value when there is one.
 */
export async function resilientLoad<T>(plan: ResilientLoadPlan<T>): Promise<T> {
  const locking = plan.lock;
  if (locking === undefined) return failSafe(plan);
  const deadline = Date.now() + locking.ttlMs;
  for (;;) {
    let token: string | undefined;
    try {
      token = await locking.lock.acquire(plan.key, locking.ttlMs);
    } catch {
      return failSafe(plan); // Redis is down: no lock to take, this instance's single-flight still holds.
    }
    if (token !== undefined) return loadHolding(plan, locking, token);
    while (Date.now() < deadline) {
      await sleep(locking.pollMs);
      const value = await plan.lookup();
      if (value !== undefined) return value;
      let held = false;
      try {
        held = await locking.lock.isHeld(plan.key);
      } catch {
        return failSafe(plan);
      }
      if (!held) break; // The holder gave up (its loader failed): try to take over.
    }
    if (Date.now() >= deadline) return failSafe(plan);
  }
}

async function loadHolding<T>(plan: ResilientLoadPlan<T>, locking: NonNullable<ResilientLoadPlan<T>['lock']>, token: string): Promise<T> {
  // A long loader keeps its lock: extended by its owner only, every third of the TTL.
  const extender = setInterval(() => {
    locking.lock.extend(plan.key, token, locking.ttlMs).catch(() => undefined);
  }, Math.max(1, Math.floor(locking.ttlMs / 3)));
  extender.unref();
  const background: Promise<unknown>[] = [];
  try {
    const filled = await plan.lookup();
    if (filled !== undefined) return filled; // Another instance stored it before we got the lock.
    return await failSafe(plan, background);
  } finally {
    // Hold the lock until the load really ends (also when a stale value answered early).
    void Promise.allSettled(background).then(() => {
      clearInterval(extender);
      return locking.lock.release(plan.key, token).catch(() => undefined);
    });
  }
}

async function failSafe<T>(plan: ResilientLoadPlan<T>, background?: Promise<unknown>[]): Promise<T> {
  const running = plan.load();
  background?.push(running);
  if (plan.softTimeoutMs === 0 && plan.hardTimeoutMs === 0) {
    try {
      return await running;
    } catch (error) {
      return staleOr(plan, 'loader-error', error);
    }
  }
  // Keep the loader's own rejection from going unhandled once a timeout has answered.
  running.catch(() => undefined);
  const soft = plan.stale() !== undefined ? plan.softTimeoutMs : 0;
  const outcome = await race(running, soft, plan.hardTimeoutMs);
  if (outcome.kind === 'value') return outcome.value;
  if (outcome.kind === 'error') return staleOr(plan, 'loader-error', outcome.error);
  if (outcome.kind === 'soft') return staleOr(plan, 'loader-timeout', undefined, running);
  return staleOr(plan, 'loader-timeout', new LoaderTimeoutError(plan.namespace, plan.hardTimeoutMs));
}

function staleOr<T>(plan: ResilientLoadPlan<T>, reason: StaleReason, error: unknown, fallback?: Promise<T>): T | Promise<T> {
  // A loader's 4xx is its answer (deleted, forbidden), not a failure: no stale copy stands in for it.
  const stale = reason === 'loader-error' && isClientError(error) ? undefined : plan.stale();
  if (stale !== undefined) {
    plan.reportStale(reason);
    return stale;
  }
  if (fallback !== undefined) return fallback;
  throw error;
}

type Outcome<T> = { kind: 'value'; value: T } | { kind: 'error'; error: unknown } | { kind: 'soft' } | { kind: 'hard' };

function race<T>(running: Promise<T>, softMs: number, hardMs: number): Promise<Outcome<T>> {
  return new Promise((resolve) => {
    const timers: NodeJS.Timeout[] = [];
    const done = (outcome: Outcome<T>): void => {
      for (const t of timers) clearTimeout(t);
      resolve(outcome);
    };
    if (softMs > 0) timers.push(setTimeout(() => done({ kind: 'soft' }), softMs));
    if (hardMs > 0) timers.push(setTimeout(() => done({ kind: 'hard' }), hardMs));
    running.then((value) => done({ kind: 'value', value }), (error) => done({ kind: 'error', error }));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
