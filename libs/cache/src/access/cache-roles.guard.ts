import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { CacheAccessControl } from './cache-access-control';
import { CACHE_ROLES_METADATA } from './cache-roles.decorator';
import { CachePrincipal } from './cache-principal';

/**
 * Enforces `@CacheRoles(...)`: the request's principal (from the `PrincipalResolver`) must hold one
 * of the roles, whether or not RBAC is on for cache operations. A refusal emits `denied`, is audited
 * and throws `CacheAccessDeniedError` (403). Routes without `@CacheRoles` pass.
 */
@Injectable()
export class CacheRolesGuard implements CanActivate {
  constructor(
    protected readonly reflector: Reflector,
    protected readonly access: CacheAccessControl,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const roles = this.reflector.getAllAndOverride<string[] | undefined>(CACHE_ROLES_METADATA, [context.getHandler(), context.getClass()]);
    if (roles === undefined) return true;
    const request = this.getRequest(context);
    const principal = this.access.principalOf(request);
    if (this.hasRole(principal, roles)) return true;
    const route = `${request?.method ?? context.getType()} ${routePath(request) ?? context.getHandler().name}`;
    throw this.access.deny(principal, '*', route, roles.length === 0 ? 'the route admits no role' : `needs one of the roles ${roles.map((r) => `"${r}"`).join(', ')}`);
  }

  /** Override for transports other than HTTP. */
  protected getRequest(context: ExecutionContext): any {
    return context.switchToHttp().getRequest();
  }

  protected hasRole(principal: CachePrincipal, roles: readonly string[]): boolean {
    return principal.roles.some((role) => roles.includes(role));
  }
}

/** The matched route's pattern: Express's `request.route.path`, Fastify's `request.routeOptions.url`. */
function routePath(request: any): string | undefined {
  const path = request?.route?.path ?? request?.routeOptions?.url;
  return typeof path === 'string' ? path : undefined;
}
