import { CallHandler, ExecutionContext, Injectable, Logger, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { createHash } from 'node:crypto';
import { from, lastValueFrom, Observable } from 'rxjs';
import { CacheRegistry } from '../cache-registry';
import { CacheError } from '../errors/cache-error';
import { CacheNamespace } from '../namespace/cache-namespace';
import { parseTtl } from '../ttl/parse-ttl';
import { CACHE_ROUTE_METADATA, CacheRouteOptions } from './cache-route.decorator';
import { describeError } from '../logging/error-fields';

/** What the interceptor stores per response. */
interface CachedResponse {
  body: unknown;
  storedAt: number;
}

const MAX_KEY_LENGTH = 512;

/**
 * Caches GET responses of routes marked with `@CacheRoute`. The key is built only from the route
 * (its path template and parameters), the query parameters the route lists (others are removed from
 * the request before the handler runs), and the principal when the route is per-user; headers never
 * enter it. Only 2xx responses without `Set-Cookie` are stored. Sets `X-Cache` (HIT/MISS), `Age`
 * and `Cache-Control`. A cache failure never fails the request: the handler answers.
 */
@Injectable()
export class CacheInterceptor implements NestInterceptor {
  private readonly logger = new Logger('CacheInterceptor');

  constructor(
    private readonly reflector: Reflector,
    private readonly registry: CacheRegistry,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const options = this.reflector.getAllAndOverride<CacheRouteOptions | undefined>(CACHE_ROUTE_METADATA, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (context.getType() !== 'http' || options === undefined) return next.handle();
    const http = context.switchToHttp();
    const request = http.getRequest();
    const response = http.getResponse();
    if (request.method !== 'GET') return next.handle();

    const query = this.allowedQuery(request, options.query ?? []);
    let principal: string | undefined;
    if (options.perUser) {
      principal = options.principal ? options.principal(request) : this.principalId(request);
      if (typeof principal !== 'string' || principal === '') return next.handle();
    }
    const namespace = this.registry.namespace(options.namespace ?? this.registry.defaultNamespace);
    const ttlMs = options.ttl === undefined ? undefined : parseTtl(options.ttl, 'CacheRoute ttl');
    const key = routeKey(request, query, principal);
    return from(this.respond(namespace, key, ttlMs, options, response, next));
  }

  private async respond(
    namespace: CacheNamespace, key: string, ttlMs: number | undefined, options: CacheRouteOptions, response: any, next: CallHandler,
  ): Promise<unknown> {
    let ran = false;
    const now = Date.now();
    let entry: CachedResponse;
    try {
      entry = await namespace.getOrSet<CachedResponse>(
        key,
        async () => {
          ran = true;
          return { body: await lastValueFrom(next.handle(), { defaultValue: undefined }), storedAt: Date.now() };
        },
        { ttl: ttlMs, cacheIf: () => isCacheable(response) },
      );
    } catch (error) {
      // The handler's own errors pass through untouched; only cache failures fall back to it.
      if (!(error instanceof CacheError) || ran) throw error;
      this.logger.warn(`cache unavailable for a ${options.perUser ? 'per-user' : 'shared'} route, answering uncached: ${describeError(error)}`);
      return lastValueFrom(next.handle(), { defaultValue: undefined });
    }
    const age = ran ? 0 : Math.max(0, Math.floor((now - entry.storedAt) / 1000));
    if (!response.headersSent) {
      response.setHeader('X-Cache', ran ? 'MISS' : 'HIT');
      response.setHeader('Age', String(age));
      const ttl = ttlMs ?? 0;
      const scope = options.perUser ? 'private' : 'public';
      response.setHeader('Cache-Control', ttl > 0 ? `${scope}, max-age=${Math.max(0, Math.floor(ttl / 1000) - age)}` : `${scope}, no-cache`);
    }
    return entry.body;
  }

  /** The module's PrincipalResolver decides who a request is (by default `request.user.id`, then `sub`). */
  private principalId(request: unknown): string | undefined {
    const principal = this.registry.access.principalOf(request);
    return this.registry.access.isAnonymous(principal) ? undefined : principal.id;
  }

  /** Keeps only the listed query parameters, on the request itself, so that the handler sees no other. */
  private allowedQuery(request: any, allowed: readonly string[]): Record<string, unknown> {
    const original = (request.query ?? {}) as Record<string, unknown>;
    const kept: Record<string, unknown> = {};
    for (const name of [...allowed].sort()) if (Object.hasOwn(original, name)) kept[name] = original[name];
    Object.defineProperty(request, 'query', { value: { ...kept }, configurable: true, writable: true, enumerable: true });
    return kept;
  }
}

function isCacheable(response: any): boolean {
  const status: number = response.statusCode ?? 200;
  return status >= 200 && status < 300 && !response.getHeader?.('set-cookie');
}

function routeKey(request: any, query: Record<string, unknown>, principal: string | undefined): string {
  const route: string = request.route?.path ?? request.routeOptions?.url ?? request.path ?? request.url;
  const params = request.params ?? {};
  const parts = [
    `GET ${route}`,
    JSON.stringify(Object.keys(params).sort().map((k) => [k, params[k]])),
    JSON.stringify(Object.entries(query)),
  ];
  if (principal !== undefined) parts.push(`user=${JSON.stringify(principal)}`);
  const key = `http:${parts.join('|')}`;
  // Request input can make a key arbitrarily long (or hold characters keys may not): hash it then.
  return key.length <= MAX_KEY_LENGTH && !/[\u0000-\u001f\u007f-\u009f\ud800-\udfff]/.test(key)
    ? key
    : `http:${createHash('sha256').update(key).digest('base64url')}`;
}

