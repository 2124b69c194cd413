import { CacheError } from '../errors/cache-error';

/**
 * Thrown by value walkers (serializers, the size estimator) with the path of the part they cannot
 * handle; the namespace turns it into an `InvalidValueError` that names the namespace.
 */
export class UnsupportedValueError extends CacheError {
  readonly code = 'CACHE_UNSUPPORTED_VALUE';

  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path} is ${reason}`);
  }
}
