import { Injectable, NestMiddleware } from '@nestjs/common';
import { CacheAccessControl } from './cache-access-control';

/**
 * Registered by `CacheModule` for every route: opens the request's principal scope for the rest of
 * the middleware chain and the guards, so that cache calls made there are checked as the request's
 * principal. A later middleware that calls `next()` from a callback of another async context (a
 * stream's `'end'`, a pool) drops this scope: calls made after it and before the handler run as the
 * unscoped (anonymous) principal, and `PrincipalContextInterceptor` opens the scope again around the
 * handler. Nest middleware sees the raw request on Fastify. Does nothing while no check or audit
 * record needs a principal.
 */
@Injectable()
export class PrincipalContextMiddleware implements NestMiddleware {
  constructor(private readonly access: CacheAccessControl) {}

  use(request: unknown, _response: unknown, next: (error?: unknown) => void): void {
    if (!this.access.tracksCallers) return next();
    this.access.runInRequest(request, next);
  }
}
