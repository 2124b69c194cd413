import { ForbiddenException } from '@nestjs/common';
import { brandAsCacheError } from '../errors/cache-error';

/**
 * A principal lacked the permission (or role) an operation needs: HTTP 403 through Nest's exception
 * layer, which maps only `HttpException`s to statuses, so it extends `ForbiddenException`; it is
 * branded as a `CacheError` (`instanceof CacheError` holds) and carries a stable `code`.
 */
export class CacheAccessDeniedError extends ForbiddenException {
  readonly code = 'CACHE_ACCESS_DENIED';

  constructor(
    /** The namespace, or `'*'` for a route guarded by `@CacheRoles`. */
    readonly namespace: string,
    readonly operation: string,
    readonly principal: string,
    /** What was missing: the permissions, the roles, or why the principal cannot act here. */
    readonly missing: string,
  ) {
    super(
      namespace === '*'
        ? `Principal "${principal}" may not use ${operation}: ${missing}.`
        : `Principal "${principal}" may not ${operation} in cache namespace "${namespace}": ${missing}.`,
    );
    this.name = 'CacheAccessDeniedError';
  }
}

brandAsCacheError(CacheAccessDeniedError);
