import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Observable } from 'rxjs';
import { CacheAccessControl } from './cache-access-control';

/**
 * Registered by `CacheModule` as a global interceptor: runs every HTTP handler (its pipes, the
 * handler, everything it awaits and the observable it returns) in the request's principal scope.
 * Nest runs interceptors after every middleware and guard, so a middleware that lost the async
 * context (one that calls `next()` from a stream or pool callback) cannot make the handler's cache
 * calls run as anyone else; and on Fastify the scope holds the Fastify request, where auth guards set
 * `request.user`. The principal is still resolved lazily, at each checked operation. Does nothing
 * while no check or audit record needs a principal. Global interceptors of the app's root module run
 * before this one: an app lists `{ provide: APP_INTERCEPTOR, useExisting: PrincipalContextInterceptor }`
 * first among them to run those in the scope too (a second scope inside is harmless).
 */
@Injectable()
export class PrincipalContextInterceptor implements NestInterceptor {
  constructor(protected readonly access: CacheAccessControl) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (!this.access.tracksCallers) return next.handle();
    const request = this.getRequest(context);
    if (request === undefined) return next.handle();
    return new Observable((subscriber) => this.access.runInRequest(request, () => next.handle().subscribe(subscriber)));
  }

  /**
   * The request of an HTTP (or GraphQL over HTTP) call; undefined for other transports, whose
   * handlers run in the scope their caller opened (`runAs`), or as the unscoped principal. Override
   * to resolve other transports' principals.
   */
  protected getRequest(context: ExecutionContext): unknown {
    const type = context.getType<string>();
    if (type === 'http') return context.switchToHttp().getRequest();
    if (type === 'graphql') return (context.getArgByIndex(2) as { req?: unknown } | undefined)?.req;
    return undefined;
  }
}
