import { CacheError } from './cache-error';

/**
 * A call was given an argument it cannot use: a loader that is not a function, `mget` keys that are
 * not an array, a constructor option out of range… The message names the function and the argument.
 * (Not a `TypeError`: every error of the library is a `CacheError`.)
 */
export class InvalidArgumentError extends CacheError {
  readonly code = 'CACHE_INVALID_ARGUMENT';
}
