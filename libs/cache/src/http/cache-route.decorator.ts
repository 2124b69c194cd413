import { SetMetadata } from '@nestjs/common';
import { Ttl } from '../ttl/parse-ttl';

export const CACHE_ROUTE_METADATA = 'nest-cachekit:cache-route';

export interface CacheRouteOptions {
  /** Default: the module's default namespace. */
  namespace?: string;
  ttl?: Ttl;
  /**
   * Query parameters that select a different response. Every other query parameter is removed from
   * the request before the handler sees it (`request.query`, and the query strings of `request.url`
   * and `request.originalUrl`), so no unlisted input can shape a cached response.
   */
  query?: string[];
  /**
   * The response depends on who asks: the principal's id is part of the key (`Cache-Control:
   * private`; a handler's own `private` is then stored too), and requests without a principal are
   * not cached.
   */
  perUser?: boolean;
  /** Principal id of a request. Default: the module's PrincipalResolver (`request.user.id`, then `sub`). */
  principal?: (request: any) => string | undefined;
}

/** Marks a GET route (and its HEAD) for `CacheInterceptor` (use both: `@UseInterceptors(CacheInterceptor)`). */
export const CacheRoute = (options: CacheRouteOptions = {}): MethodDecorator & ClassDecorator =>
  SetMetadata(CACHE_ROUTE_METADATA, options);
