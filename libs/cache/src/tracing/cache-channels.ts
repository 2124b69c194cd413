/**
 * What the cache publishes on `node:diagnostics_channel`, for the optional Prometheus and
 * OpenTelemetry parts and for any tool of the app's own. Nothing is published to a channel nobody
 * listens to; which calls are published is decided by `OperationObserver`.
 *
 * - `nest-cachekit:<operation>` (`get`, `set`, `has`, `invalidate`, `getOrSet`, `mget`, `mset`,
 *   `invalidateTag`, `clear`, `load`): a `TracingChannel` per operation. Every call is published
 *   while anything subscribes to it: `start` (the call is entered inside the start channel's bound
 *   stores), `end` (its synchronous part returned), then, once it settles, `error` (failed only),
 *   `asyncStart` and `asyncEnd`. `asyncEnd` is the end of every operation, synchronous ones included.
 * - `nest-cachekit:latency`: one message per timed call (1 in `latencySampleEvery` on memory and
 *   tiered namespaces, paced on remote backends, every call while the operation's tracing channel
 *   has a subscriber), after it settled.
 *
 * Both carry a `CacheOperationContext`: never a key or a value.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { channel, Channel, tracingChannel, TracingChannel } from 'node:diagnostics_channel';
import { CACHE_OPERATIONS, CacheOperationName } from './cache-operations';

export const CHANNEL_PREFIX = 'nest-cachekit';

/** How an operation ended: a lookup hit or missed; other operations are `ok`; a failure is `error`. */
export type CacheOperationOutcome = 'hit' | 'miss' | 'ok' | 'error';

/** The message of both channels: the same object from `start` to `asyncEnd` (and on `latency`). */
export class CacheOperationContext {
  /** Set when the call settled. */
  outcome: CacheOperationOutcome | undefined = undefined;
  /** Which tier answered a read of a tiered namespace (`l1`, `l2`), when one says so (`markCacheTier`). */
  tier: string | undefined = undefined;
  /** The error of a failed call. Its message may quote a key: describe it by `name` and `code`. */
  error: unknown = undefined;
  /** Seconds from the call until it settled (set before `error`/`asyncStart`). */
  seconds: number | undefined = undefined;
  readonly #cache: object | undefined;

  constructor(
    readonly namespace: string,
    readonly backend: string,
    readonly operation: CacheOperationName,
    cache: object | undefined,
    /** For `load`: the `getOrSet` whose loader this is, when that call was published too. */
    readonly parent: CacheOperationContext | undefined = undefined,
  ) {
    this.#cache = cache;
  }

  /**
   * The `CacheNamespace` the call ran on (compare it with `cacheService.namespace(name)` to tell two
   * cache modules of one process apart). Not an own property: printing a message never prints the cache.
   */
  get cache(): object | undefined {
    return this.#cache;
  }
}

/** Told when something subscribes to (or binds a store on) one of the cache's channels. */
export interface SubscriptionWatcher {
  subscribed(): void;
}

/** The observers of the running cache modules; each decides afresh on its next call when told. */
export const subscriptionWatchers = new Set<SubscriptionWatcher>();

/**
 * Observers look at `hasSubscribers` only when their countdown runs out (so that the hot path stays
 * one decrement); to see a new subscriber on the very next call all the same, the cache's own channel
 * objects tell them when one subscribes. `channel(name)` hands every caller (`subscribe(name, fn)`,
 * `tracingChannel(name).subscribe(…)`) these same objects; the methods called are the prototype's
 * (which Node swaps when a channel becomes active), followed by the notice. Were a Node version to
 * subscribe some other way, a subscriber is still seen at the next decision.
 */
function watched<C extends Channel<unknown, CacheOperationContext>>(target: C): C {
  for (const method of ['subscribe', 'bindStore'] as const) {
    Object.defineProperty(target, method, {
      configurable: true,
      writable: true,
      value(this: C, ...args: unknown[]): unknown {
        const result: unknown = (Object.getPrototypeOf(this) as Record<string, (...a: unknown[]) => unknown>)[method].apply(this, args);
        for (const watcher of subscriptionWatchers) watcher.subscribed();
        return result;
      },
    });
  }
  return target;
}

/** `nest-cachekit:<operation>`, indexed like `CACHE_OPERATIONS` (`OP.get`…). */
export const OPERATION_CHANNELS: readonly TracingChannel<unknown, CacheOperationContext>[] = CACHE_OPERATIONS.map((operation) => {
  const channels = tracingChannel<unknown, CacheOperationContext>(`${CHANNEL_PREFIX}:${operation}`);
  for (const event of ['start', 'end', 'asyncStart', 'asyncEnd', 'error'] as const) watched(channels[event]);
  return channels;
});

export const LATENCY_CHANNEL_NAME = `${CHANNEL_PREFIX}:latency`;
export const LATENCY_CHANNEL = watched(channel(LATENCY_CHANNEL_NAME) as Channel<unknown, CacheOperationContext>);

/** Whether anything listens to one operation's tracing channel (any of its five events, or a bound store). */
export function traced(operation: number): boolean {
  const c = OPERATION_CHANNELS[operation];
  return c.start.hasSubscribers || c.end.hasSubscribers || c.asyncStart.hasSubscribers || c.asyncEnd.hasSubscribers || c.error.hasSubscribers;
}

/** Whether anything listens to the tracing channel of any operation. */
export function anyTraced(): boolean {
  for (let op = 0; op < OPERATION_CHANNELS.length; op++) if (traced(op)) return true;
  return false;
}

/**
 * The published call in progress, across its awaits: entered only around published calls on
 * asynchronous backends (whose tiers mark which one answered after an await), so that nothing
 * turns on AsyncLocalStorage's promise tracking while nobody listens.
 */
export const operationScope = new AsyncLocalStorage<CacheOperationContext>();
