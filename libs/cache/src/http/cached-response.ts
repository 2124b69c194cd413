import { StreamableFile } from '@nestjs/common';
import { strongEtag } from './conditional-get';
import { HeaderValue, HttpExchange } from './http-exchange';

/** A stored response: what a hit sends again. */
export interface CachedResponse {
  readonly kind: 'response';
  readonly body: unknown;
  /** Headers the handler set (not those of middleware, which run again on a hit), lower-case names. */
  readonly headers: Record<string, HeaderValue>;
  /** The request headers the response varies on (its `Vary`), lower case, sorted. */
  readonly vary: readonly string[];
  readonly etag: string;
  readonly storedAt: number;
  /** The TTL it was stored with (0 = no expiry), for `max-age`. */
  readonly ttlMs: number;
}

/**
 * What the route key holds once its responses vary on request headers: their names. The
 * responses themselves live under `varyKey(route, names, …)`, one per combination of values.
 */
export interface VaryIndex {
  readonly kind: 'vary';
  readonly vary: readonly string[];
}

export function isCachedResponse(value: unknown): value is CachedResponse {
  const v = value as CachedResponse | null;
  return typeof v === 'object' && v !== null && v.kind === 'response' && typeof v.etag === 'string' &&
    typeof v.storedAt === 'number' && typeof v.ttlMs === 'number' && isNameList(v.vary) && typeof v.headers === 'object' && v.headers !== null;
}

export function isVaryIndex(value: unknown): value is VaryIndex {
  const v = value as VaryIndex | null;
  return typeof v === 'object' && v !== null && v.kind === 'vary' && isNameList(v.vary) && v.vary.length > 0;
}

function isNameList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((name) => typeof name === 'string');
}

export function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name, i) => name === b[i]);
}

/** `Vary` as a sorted list of lower-case names; `'*'` when it names `*`. */
export function varyNames(header: HeaderValue | undefined): string[] | '*' {
  if (header === undefined) return [];
  const names = new Set<string>();
  for (const part of (Array.isArray(header) ? header : [String(header)])) {
    for (const raw of String(part).split(',')) {
      const name = raw.trim().toLowerCase();
      if (name === '*') return '*';
      if (name !== '') names.add(name);
    }
  }
  return [...names].sort();
}

/** Headers that describe the message or the cache's own answer, never replayed from an entry. */
const NOT_REPLAYED = new Set([
  'set-cookie', 'cache-control', 'expires', 'pragma', 'age', 'etag', 'x-cache', 'vary', 'date',
  'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'trailer', 'upgrade',
]);

/**
 * Why the response the handler just made must not be shared (stored, or handed to requests
 * waiting for the same key), or undefined when it may be. `perUser` routes are keyed by principal,
 * so `Cache-Control: private` is theirs to store; `no-store` and `no-cache` never are.
 */
export function unshareableReason(exchange: HttpExchange, body: unknown, perUser: boolean): string | undefined {
  if (exchange.headersSent) return 'sent by the handler';
  const status = exchange.status;
  if (status < 200 || status > 299 || status === 206) return `status ${status}`;
  if (exchange.setsCookie()) return 'Set-Cookie';
  const directives = cacheControlDirectives(exchange.responseHeader('cache-control'));
  if (directives.has('no-store') || directives.has('no-cache')) return 'Cache-Control';
  if (directives.has('private') && !perUser) return 'Cache-Control: private';
  if (varyNames(exchange.responseHeader('vary')) === '*') return 'Vary: *';
  if (body instanceof StreamableFile || typeof (body as { pipe?: unknown } | null)?.pipe === 'function') return 'a stream body';
  return undefined;
}

/** The response as an entry, with the headers the handler set since `before` was taken. */
export function toCachedResponse(
  exchange: HttpExchange, before: Record<string, HeaderValue | undefined>, body: unknown, ttlMs: number,
): CachedResponse {
  const headers: Record<string, HeaderValue> = {};
  for (const [name, value] of Object.entries(exchange.responseHeaders())) {
    const lower = name.toLowerCase();
    if (value === undefined || NOT_REPLAYED.has(lower) || sameValue(before[name], value)) continue;
    headers[lower] = Array.isArray(value) ? [...value] : value;
  }
  const vary = varyNames(exchange.responseHeader('vary'));
  const contentType = headers['content-type'];
  return {
    kind: 'response',
    body,
    headers,
    vary: vary === '*' ? [] : vary,
    etag: strongEtag(body, contentType === undefined ? undefined : String(contentType)),
    storedAt: Date.now(),
    ttlMs,
  };
}

function sameValue(a: HeaderValue | undefined, b: HeaderValue): boolean {
  return a !== undefined && JSON.stringify(a) === JSON.stringify(b);
}

function cacheControlDirectives(header: HeaderValue | undefined): Set<string> {
  const directives = new Set<string>();
  if (header === undefined) return directives;
  for (const part of (Array.isArray(header) ? header : [String(header)])) {
    for (const directive of String(part).split(',')) directives.add(directive.split('=')[0].trim().toLowerCase());
  }
  return directives;
}
