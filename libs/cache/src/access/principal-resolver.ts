import { CachePrincipal } from './cache-principal';

/**
 * Finds the principal of an HTTP request. Called (synchronously) on each checked cache operation
 * made while the request is handled, so that a user set by a guard after the request started (e.g.
 * Passport's) is seen: keep it cheap. Return undefined for an anonymous request.
 */
export interface PrincipalResolver {
  resolve(request: any): CachePrincipal | undefined;
}

/** Injection token of the active resolver (`rbac.principalResolver`, or `DefaultPrincipalResolver`). */
export const PrincipalResolver = Symbol('PrincipalResolver');

/**
 * Reads `request.user`: `id` (or `sub`) as the id, `roles` (an array of strings, or a single string)
 * and `tenant` (or `tenantId`). On Fastify, guards and interceptors see the Fastify request and
 * middleware the raw Node request (`request.raw`): a user set on the Fastify request (an auth guard,
 * a Fastify plugin) wins, one set on the raw request (a middleware) is found through `request.raw`.
 */
export class DefaultPrincipalResolver implements PrincipalResolver {
  resolve(request: any): CachePrincipal | undefined {
    const user = request?.user ?? request?.raw?.user;
    if (user === null || typeof user !== 'object') return undefined;
    const id = user.id ?? user.sub;
    if ((typeof id !== 'string' && typeof id !== 'number') || id === '') return undefined;
    const roles = Array.isArray(user.roles) ? user.roles.filter((r: unknown) => typeof r === 'string') : typeof user.roles === 'string' ? [user.roles] : [];
    const tenant = user.tenant ?? user.tenantId;
    return { id: String(id), roles, ...(typeof tenant === 'string' || typeof tenant === 'number' ? { tenant: String(tenant) } : {}) };
  }
}
