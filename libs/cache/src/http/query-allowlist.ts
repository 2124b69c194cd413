import { HttpExchange } from './http-exchange';

/**
 * Keeps only the listed query parameters, everywhere a handler can read them: `request.query`,
 * `request.url` and `request.originalUrl` (and the raw Node request's, on Fastify). Returns what
 * was kept, names sorted: exactly what enters the cache key.
 *
 * The URLs' query strings are written anew from the kept values rather than filtered from the
 * original text, so that they can hold nothing the key does not (the original text may carry a
 * parameter the framework's parser dropped, e.g. past its parameter limit).
 */
export function restrictQuery(exchange: HttpExchange, allowed: readonly string[]): Record<string, unknown> {
  const request = exchange.request;
  const original = (request.query ?? {}) as Record<string, unknown>;
  const kept: Record<string, unknown> = {};
  for (const name of [...allowed].sort()) if (Object.hasOwn(original, name)) kept[name] = original[name];
  Object.defineProperty(request, 'query', { value: { ...kept }, configurable: true, writable: true, enumerable: true });
  const search = queryString(kept);
  const targets = exchange.raw === request ? [request] : [request, exchange.raw];
  for (const target of targets) {
    for (const property of ['url', 'originalUrl'] as const) {
      const url: unknown = target[property];
      if (typeof url !== 'string') continue;
      Object.defineProperty(target, property, { value: withQuery(url, search), configurable: true, writable: true, enumerable: true });
    }
  }
  return kept;
}

/** `url` with its query string replaced by `search` (none when empty). */
export function withQuery(url: string, search: string): string {
  const mark = url.indexOf('?');
  const path = mark === -1 ? url : url.slice(0, mark);
  return search === '' ? path : `${path}?${search}`;
}

/**
 * A query string that the usual parsers (Node's `querystring`, Fastify's, `qs`) read back as
 * `values`: strings and numbers as `name=value`, arrays as repeated names, nested objects (`qs`)
 * in bracket notation. Anything else (null, functions…) is left out.
 */
export function queryString(values: Record<string, unknown>): string {
  const pairs: string[] = [];
  for (const [name, value] of Object.entries(values)) append(pairs, encodeURIComponent(name), value, 0);
  return pairs.join('&');
}

const MAX_DEPTH = 8;

function append(pairs: string[], name: string, value: unknown, depth: number): void {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    pairs.push(`${name}=${encodeURIComponent(String(value))}`);
  } else if (depth >= MAX_DEPTH || value === null || typeof value !== 'object') {
    return;
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => append(pairs, typeof item === 'object' && item !== null ? `${name}[${i}]` : name, item, depth + 1));
  } else {
    for (const [key, item] of Object.entries(value)) append(pairs, `${name}[${encodeURIComponent(key)}]`, item, depth + 1);
  }
}
