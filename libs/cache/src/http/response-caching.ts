import { CallHandler, LoggerService } from '@nestjs/common';
import { lastValueFrom } from 'rxjs';
import { CacheError } from '../errors/cache-error';
import { isClientError } from '../errors/client-error';
import { describeError } from '../logging/error-fields';
import { CacheNamespace } from '../namespace/cache-namespace';
import {
  CachedResponse, isCachedResponse, isVaryIndex, sameNames, toCachedResponse, unshareableReason, VaryIndex, varyNames,
} from './cached-response';
import { ifNoneMatchMatches } from './conditional-get';
import { HttpExchange, keepCookiesPrivate } from './http-exchange';
import { varyKey } from './route-variant';

/** Where a route's responses are cached. */
export interface ResponseCacheTarget {
  namespace: CacheNamespace;
  /** The route key (`routeKey`). */
  key: string;
  /** The TTL entries are stored with (the route's, else the namespace's), 0 = no expiry. */
  ttlMs: number;
  /**
   * The responses belong to their caller: a `perUser` route, or a namespace scoped per user or
   * tenant (its keys are the caller's). They are sent `private` and may be stored when `private`.
   */
  perUser: boolean;
  logger: LoggerService;
}

/** What the handler made of this request. */
type Outcome =
  | { kind: 'error'; error: unknown }
  | { kind: 'response'; body: unknown; entry: CachedResponse | undefined };

/**
 * The loader's answer when its response may not be shared with the requests waiting on the same
 * key (`getOrSet` hands a loader's error to every waiter and caches nothing): each runs the handler
 * itself. Not a `CacheError`: it never means the cache failed.
 */
class UnsharedResponse extends Error {
  constructor() {
    super('the response is not shared');
  }
}

const NO_NAMES: readonly string[] = [];

/**
 * Answers one request of a cached route. Like a CDN, it looks up in two steps: the route key holds
 * either a response (the route does not vary) or the names its responses vary on (`VaryIndex`);
 * then the key of this request's values for those names holds the response. A miss runs the
 * handler through `getOrSet`, so that concurrent misses of one key in this process (and across
 * instances, on tiered namespaces) share one run; but the run's response is handed to the others
 * only when it may be shared and was made under the same `Vary` names they looked up. Otherwise
 * the loader stores it under its right key itself (when it may be shared) and fails with
 * `UnsharedResponse`, and each waiting request runs the handler on its own.
 *
 * The handler runs at most once per request; an early refresh (tiered namespaces) that calls the
 * loader after the request was answered does not run it (the handler belongs to that request).
 */
export class ResponseCaching {
  /** This request's handler run, once started. */
  private running: Promise<Outcome> | undefined;
  private own: Outcome | undefined;

  constructor(
    private readonly target: ResponseCacheTarget,
    private readonly exchange: HttpExchange,
    private readonly next: CallHandler,
  ) {}

  async respond(): Promise<unknown> {
    const { key } = this.target;
    let names = NO_NAMES;
    let found: unknown;
    try {
      found = await this.lookupOrLoad(key, names);
      if (this.own === undefined && isVaryIndex(found)) {
        names = found.vary;
        found = await this.lookupOrLoad(this.variantKey(names), names);
      }
    } catch (error) {
      if (this.own !== undefined) return this.answerOwn();
      // Still running for this request (a hard loader timeout): the timeout is the answer.
      if (this.running !== undefined) throw error;
      if (error instanceof UnsharedResponse) return this.runAlone(true);
      if (!(error instanceof CacheError)) throw error;
      this.target.logger.warn(`cache unavailable for a ${this.target.perUser ? 'per-user' : 'shared'} route, answering uncached: ${describeError(error)}`);
      return this.runAlone(false);
    }
    if (this.own !== undefined) {
      // The handler failed and the namespace's fail-safe answered with a stale copy: send it, unless
      // the handler refused on purpose (a 4xx: the resource is gone, the caller may no longer see it).
      if (this.own.kind === 'error' && !isClientError(this.own.error) && isCachedResponse(found) && sameNames(found.vary, names)) {
        return this.answerCached(found);
      }
      return this.answerOwn();
    }
    if (isCachedResponse(found) && sameNames(found.vary, names)) return this.answerCached(found);
    // The route's Vary names changed meanwhile, or the entry is not one of ours: answer on our own.
    return this.runAlone(true);
  }

  /** `getOrSet` of `key`, whose loader shares its response only if it varies on exactly `names`. */
  private async lookupOrLoad(key: string, names: readonly string[]): Promise<unknown> {
    const call = { returned: false };
    try {
      return await this.target.namespace.getOrSet<unknown>(key, () => this.load(call, names), { ttl: this.target.ttlMs });
    } finally {
      call.returned = true;
    }
  }

  private async load(call: { returned: boolean }, names: readonly string[]): Promise<unknown> {
    // An early refresh calls the loader while getOrSet answers from the cache: by the next turn of
    // the event loop that answer has returned, and the request is no longer this loader's.
    await new Promise((resolve) => setImmediate(resolve));
    if (call.returned || this.running !== undefined) return undefined;
    const outcome = await (this.running = this.run());
    if (outcome.kind === 'error' || outcome.entry === undefined) throw new UnsharedResponse();
    if (!sameNames(outcome.entry.vary, names)) {
      await this.store(outcome.entry);
      throw new UnsharedResponse();
    }
    return outcome.entry;
  }

  private async run(): Promise<Outcome> {
    const before = this.exchange.responseHeaders();
    let body: unknown;
    try {
      body = await lastValueFrom(this.next.handle(), { defaultValue: undefined });
    } catch (error) {
      return (this.own = { kind: 'error', error });
    }
    const shareable = unshareableReason(this.exchange, body, this.target.perUser) === undefined;
    const entry = shareable ? toCachedResponse(this.exchange, before, body, this.target.ttlMs) : undefined;
    return (this.own = { kind: 'response', body, entry });
  }

  /**
   * Runs the handler (or waits for this request's run) without joining anyone; stores what may be
   * shared. Without `store` (the cache failed or refused the caller) the answer is the handler's
   * own, as `BYPASS`: nothing was kept, so nothing may tell a cache downstream it is shareable.
   */
  private async runAlone(store: boolean): Promise<unknown> {
    const outcome = await (this.running ??= this.run());
    if (!store) return this.answerUncached();
    if (outcome.kind === 'response' && outcome.entry !== undefined) await this.store(outcome.entry);
    return this.answerOwn();
  }

  /** Stores a response under its own key: the route key, or (it varies) the index there and the response under its variant key. */
  private async store(entry: CachedResponse): Promise<void> {
    const { namespace, key, ttlMs } = this.target;
    try {
      if (entry.vary.length === 0) {
        await namespace.set(key, entry, { ttl: ttlMs });
      } else {
        const index: VaryIndex = { kind: 'vary', vary: entry.vary };
        await namespace.set(key, index, { ttl: ttlMs });
        await namespace.set(this.variantKey(entry.vary), entry, { ttl: ttlMs });
      }
    } catch (error) {
      if (!(error instanceof CacheError)) throw error;
      this.target.logger.warn(`response not cached: ${describeError(error)}`);
    }
  }

  private variantKey(names: readonly string[]): string {
    return varyKey(this.target.key, names, (name) => this.exchange.requestHeader(name));
  }

  private answerOwn(): unknown {
    const own = this.own!;
    if (own.kind === 'error') throw own.error;
    if (own.entry === undefined) return this.answerUncached();
    return this.answer(own.entry, 'MISS', own.body);
  }

  /** The handler's answer as it made it, headers included, marked `BYPASS`. */
  private answerUncached(): unknown {
    const own = this.own!;
    if (own.kind === 'error') throw own.error;
    if (!this.exchange.headersSent) this.exchange.setResponseHeader('X-Cache', 'BYPASS');
    return own.body;
  }

  private answerCached(entry: CachedResponse): unknown {
    if (this.exchange.headersSent) return entry.body;
    for (const [name, value] of Object.entries(entry.headers)) this.exchange.setResponseHeader(name, value);
    if (entry.vary.length > 0) {
      const present = varyNames(this.exchange.responseHeader('vary'));
      if (present !== '*') this.exchange.setResponseHeader('Vary', [...new Set([...present, ...entry.vary])].join(', '));
    }
    return this.answer(entry, 'HIT', entry.body);
  }

  /**
   * The cache's headers, then the body or a 304. `max-age` is the TTL the entry has left, so that
   * no client keeps it longer than this cache does. No `Age` goes with it: a cache downstream
   * subtracts `Age` from `max-age` (RFC 9111 4.2.3), which would count the elapsed time twice.
   */
  private answer(entry: CachedResponse, label: 'HIT' | 'MISS', body: unknown): unknown {
    const exchange = this.exchange;
    if (exchange.headersSent) return body;
    const age = label === 'MISS' ? 0 : Math.max(0, Math.floor((Date.now() - entry.storedAt) / 1000));
    const scope = this.target.perUser ? 'private' : 'public';
    exchange.setResponseHeader('X-Cache', label);
    const maxAge = Math.max(0, Math.floor(entry.ttlMs / 1000) - age);
    exchange.setResponseHeader('Cache-Control', entry.ttlMs > 0 ? `${scope}, max-age=${maxAge}` : `${scope}, no-cache`);
    exchange.setResponseHeader('ETag', entry.etag);
    // A cookie of this request (a middleware's, on a hit) is never handed to shared caches.
    if (!this.target.perUser) keepCookiesPrivate(exchange);
    if (ifNoneMatchMatches(exchange.requestHeader('if-none-match'), entry.etag)) {
      exchange.status = 304;
      return undefined;
    }
    return body;
  }
}
