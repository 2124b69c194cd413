import { VERSION_NEUTRAL, VersioningOptions, VersioningType } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { HttpExchange } from './http-exchange';

/**
 * Everything that selects the handler of a request or shapes its response, as far as the
 * interceptor can know it before the handler runs: the cache key is made of exactly this (and,
 * once a handler has answered with `Vary`, of the request headers it names: `varyKey`).
 */
export interface RouteVariant {
  method: string;
  /** `Controller.method`: the handler Nest's router chose (versions and hosts select among them). */
  handler: string;
  /** The route template (`/v1/charts/:country`, with prefix and URI version). */
  route: string | undefined;
  /** The request's path(s) as received (`originalUrl` and `url` when they differ). */
  paths: string[];
  params: Record<string, unknown>;
  /** The allowlisted query parameters (`restrictQuery`). */
  query: Record<string, unknown>;
  /** Host-bound controllers: the host name and the `@HostParam`s Nest matched. */
  host?: { name: string | undefined; params: Record<string, unknown> };
  /** With versioning on: the handler's versions, and the version the request asks for as the router reads it. */
  version?: { declared: string[]; requested: unknown };
  /** Per-user routes: the principal's id, and its tenant when it has one (ids may be unique only within a tenant). */
  principal?: { id: string; tenant?: string };
}

/** Keys longer than this, or holding anything but printable ASCII, are stored by their hash. */
const MAX_READABLE_KEY = 512;

/** The key of a route variant: `http:` and the variant as JSON (one value per field, unambiguous). */
export function routeKey(variant: RouteVariant): string {
  const { method, handler, route, paths, params, query, host, version, principal } = variant;
  const fields: unknown[] = [method, handler, route ?? null, paths, sortedEntries(params), Object.entries(query)];
  fields.push(host === undefined ? null : [host.name ?? null, sortedEntries(host.params)]);
  fields.push(version === undefined ? null : [version.declared, version.requested ?? null]);
  if (principal !== undefined) fields.push(principal.tenant === undefined ? { user: principal.id } : { user: principal.id, tenant: principal.tenant });
  return boundedKey(`http:${JSON.stringify(fields)}`);
}

/**
 * The key of one variant of a response that named `names` in `Vary`: the route key, the names and a
 * SHA-256 of the values this request sends for them (a header sent twice is one value, joined by
 * Node). Hashed, never written out: a response may vary on `Authorization` or `Cookie`, whose values
 * are credentials that must not sit in Redis key names (nor reach anything that lists keys).
 */
export function varyKey(route: string, names: readonly string[], header: (name: string) => string | undefined): string {
  const values = createHash('sha256').update(JSON.stringify(names.map((name) => header(name) ?? null))).digest('base64url');
  return boundedKey(`${route}|vary:${JSON.stringify(names)}:${values}`);
}

function boundedKey(key: string): string {
  return key.length <= MAX_READABLE_KEY && !/[^\x20-\x7e]/.test(key)
    ? key
    : `http:sha256:${createHash('sha256').update(key).digest('base64url')}`;
}

function sortedEntries(record: Record<string, unknown>): [string, unknown][] {
  return Object.keys(record).sort().map((name) => [name, record[name]]);
}

/** The versions a handler serves: its own, else its controller's, else the app's default. */
export function declaredVersions(
  handlerVersion: unknown, controllerVersion: unknown, versioning: VersioningOptions,
): string[] {
  const version = handlerVersion ?? controllerVersion ?? versioning.defaultVersion;
  return (Array.isArray(version) ? version : version === undefined ? [] : [version]).map((v) => (v === VERSION_NEUTRAL ? '(neutral)' : String(v)));
}

/** Thrown by a custom version extractor: the request is answered uncached. */
export const VERSION_UNKNOWN = Symbol('version unknown');

/**
 * The part of the request Nest's router reads to pick a version, read the same way: the header
 * (HEADER), the parameters after the first `;` of `Accept` (MEDIA_TYPE: a finer split than the
 * version alone), the custom extractor's answer (CUSTOM, called as the adapter calls it), nothing
 * for URI versioning (the version is in the path, so in the route template).
 */
export function requestedVersion(versioning: VersioningOptions, exchange: HttpExchange): unknown {
  switch (versioning.type) {
    case VersioningType.URI:
      return undefined;
    case VersioningType.HEADER:
      return exchange.requestHeader(versioning.header.toLowerCase());
    case VersioningType.MEDIA_TYPE:
      return exchange.requestHeader('accept')?.split(';')[1];
    case VersioningType.CUSTOM:
      try {
        // Express's router passes its request; Fastify's version constraint the raw Node request.
        return versioning.extractor(exchange.fastify ? exchange.raw : exchange.request);
      } catch {
        return VERSION_UNKNOWN;
      }
    default:
      return VERSION_UNKNOWN;
  }
}
