import { Injectable, NestMiddleware } from '@nestjs/common';
import { CacheAccessControl } from './cache-access-control';

/**
 * Registered by `CacheModule` for every route: opens the request's principal scope, so that cache
 * calls made anywhere while the request is handled (guards, interceptors, services, decorated
 * methods) are checked as the request's principal, never as the system principal. Does nothing while
 * RBAC is off and no namespace is scoped.
 */
@Injectable()
export class PrincipalContextMiddleware implements NestMiddleware {
  constructor(private readonly access: CacheAccessControl) {}

  use(request: unknown, _response: unknown, next: (error?: unknown) => void): void {
    if (!this.access.needsRequestScope) return next();
    this.access.runInRequest(request, next);
  }
}
