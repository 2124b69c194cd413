import { CallHandler, ExecutionContext, Injectable, Logger, NestInterceptor } from '@nestjs/common';
import { HOST_METADATA, VERSION_METADATA } from '@nestjs/common/constants';
import { ApplicationConfig, Reflector } from '@nestjs/core';
import { from, Observable } from 'rxjs';
import { CacheRegistry } from '../cache-registry';
import { parseTtl } from '../ttl/parse-ttl';
import { CACHE_ROUTE_METADATA, CacheRouteOptions } from './cache-route.decorator';
import { HttpExchange } from './http-exchange';
import { restrictQuery } from './query-allowlist';
import { declaredVersions, requestedVersion, routeKey, RouteVariant, VERSION_UNKNOWN } from './route-variant';
import { ResponseCaching } from './response-caching';

/**
 * Caches GET and HEAD responses of routes marked with `@CacheRoute`, on Express and Fastify.
 *
 * The key holds everything that selects the handler or shapes the response before it runs: the
 * method, the handler Nest routed to, the route template and the path, its parameters, the listed
 * query parameters (the others are removed from the request, its URLs included, before the handler
 * runs), the version the request asks for (versioning on), the host of a host-bound controller,
 * the principal of a per-user route; and, once a handler answered with `Vary`, the request headers
 * it names (`ResponseCaching`). A response that may not be shared (an error, non-2xx, `Set-Cookie`,
 * `Cache-Control: no-store`/`no-cache`/`private`, `Vary: *`) is neither stored nor handed to
 * requests waiting for the same key. Sets `X-Cache` (HIT, MISS, BYPASS), `Cache-Control` (`max-age` = the TTL left),
 * `ETag`, and answers a matching `If-None-Match` with 304. A cache failure never fails the request.
 */
@Injectable()
export class CacheInterceptor implements NestInterceptor {
  private readonly logger = new Logger('CacheInterceptor');

  constructor(
    private readonly reflector: Reflector,
    private readonly registry: CacheRegistry,
    /** The app's versioning options (`app.enableVersioning`): how the router picks a version. */
    private readonly config: ApplicationConfig,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const options = this.reflector.getAllAndOverride<CacheRouteOptions | undefined>(CACHE_ROUTE_METADATA, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (options === undefined) return next.handle();
    const http = context.switchToHttp();
    const exchange = new HttpExchange(http.getRequest(), http.getResponse());
    const method = exchange.method;
    if (method !== 'GET' && method !== 'HEAD') return next.handle();

    const paths = requestPaths(exchange.request);
    const query = restrictQuery(exchange, options.query ?? []);
    // A body is input the key does not hold (Nest lets a GET handler read it with @Body()).
    if (exchange.hasBody()) return next.handle();
    let principal: RouteVariant['principal'];
    if (options.perUser) {
      principal = options.principal ? { id: options.principal(exchange.request) as string } : this.principalOf(exchange.request);
      if (typeof principal?.id !== 'string' || principal.id === '') return next.handle();
    }
    const variant = this.variant(context, exchange, { method, paths, query, principal });
    if (variant === undefined) return next.handle();
    const namespace = this.registry.namespace(options.namespace ?? this.registry.defaultNamespace);
    const ttlMs = options.ttl === undefined ? namespace.defaultTtlMs : parseTtl(options.ttl, 'CacheRoute ttl');
    // A namespace scoped per user or tenant keys each caller apart: its responses are theirs alone.
    const perUser = options.perUser === true || namespace.scope !== 'none';
    const caching = new ResponseCaching(
      { namespace, key: routeKey(variant), ttlMs, perUser, logger: this.logger },
      exchange,
      next,
    );
    // The cache work runs in the request's principal scope even when this interceptor runs before
    // the module's PrincipalContextInterceptor (an app-global one) after a context-losing middleware.
    const access = this.registry.access;
    return from(access.tracksCallers ? access.runInRequest(exchange.request, () => caching.respond()) : caching.respond());
  }

  /** What selected this handler, with the request values each selector read; undefined when that cannot be known. */
  private variant(
    context: ExecutionContext, exchange: HttpExchange,
    known: Pick<RouteVariant, 'method' | 'paths' | 'query' | 'principal'>,
  ): RouteVariant | undefined {
    const handler = context.getHandler();
    const controller = context.getClass();
    const request = exchange.request;
    const variant: RouteVariant = {
      ...known,
      handler: `${controller.name}.${handler.name}`,
      route: request.route?.path ?? request.routeOptions?.url,
      params: request.params ?? {},
    };
    // Nest's host filter sets `hosts` on requests of host-bound controllers, on both adapters.
    if (Reflect.getMetadata(HOST_METADATA, controller) !== undefined || request.hosts !== undefined) {
      variant.host = { name: request.hostname, params: request.hosts ?? {} };
    }
    const versioning = this.config.getVersioning();
    if (versioning !== undefined) {
      const requested = requestedVersion(versioning, exchange);
      if (requested === VERSION_UNKNOWN) return undefined;
      const declared = declaredVersions(Reflect.getMetadata(VERSION_METADATA, handler), Reflect.getMetadata(VERSION_METADATA, controller), versioning);
      variant.version = { declared, requested };
    }
    return variant;
  }

  /**
   * The module's PrincipalResolver decides who a request is (by default `request.user.id`, then
   * `sub`); a principal of a tenant is that user in that tenant.
   */
  private principalOf(request: unknown): RouteVariant['principal'] {
    const principal = this.registry.access.principalOf(request);
    if (this.registry.access.isAnonymous(principal)) return undefined;
    return principal.tenant === undefined || principal.tenant === '' ? { id: principal.id } : { id: principal.id, tenant: principal.tenant };
  }
}

/** The path part of the URLs the handler can read (`originalUrl`, and `url` when it differs). */
function requestPaths(request: any): string[] {
  const paths: string[] = [];
  for (const url of [request.originalUrl, request.url]) {
    if (typeof url !== 'string') continue;
    const mark = url.indexOf('?');
    const path = mark === -1 ? url : url.slice(0, mark);
    if (!paths.includes(path)) paths.push(path);
  }
  return paths;
}

