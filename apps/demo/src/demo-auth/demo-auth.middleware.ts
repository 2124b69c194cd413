import { Injectable, NestMiddleware } from '@nestjs/common';

/**
 * DEMO STAND-IN FOR REAL AUTHENTICATION. Never use this in an application: anyone can send the
 * header. It maps `X-Demo-User: <name>` to a fixed user and sets `request.user = { id, roles }`,
 * which is what nest-cachekit's default PrincipalResolver reads; a real app sets `request.user` from
 * a verified session or token (Passport, a JWT guard…).
 */
export const DEMO_USERS: Readonly<Record<string, readonly string[]>> = {
  ada: ['cache-admin'],
  ed: ['listener', 'editor'],
  lee: ['listener'],
};

@Injectable()
export class DemoAuthMiddleware implements NestMiddleware {
  use(request: { headers: Record<string, unknown>; user?: unknown }, _response: unknown, next: () => void): void {
    const name = request.headers['x-demo-user'];
    if (typeof name === 'string' && Object.hasOwn(DEMO_USERS, name)) request.user = { id: name, roles: [...DEMO_USERS[name]] };
    next();
  }
}
