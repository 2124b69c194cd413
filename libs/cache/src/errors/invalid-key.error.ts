import { CacheError } from './cache-error';

/** A key (or tag) that is not a non-empty string within the length limit, or that holds control characters. */
export class InvalidKeyError extends CacheError {
  readonly code = 'CACHE_INVALID_KEY';

  constructor(
    readonly namespace: string,
    readonly reason: string,
    /** `key`, or `tag` for an invalid tag. */
    readonly what: 'key' | 'tag' = 'key',
  ) {
    // The key itself is left out on purpose: keys of protected namespaces must not reach logs.
    super(`Invalid cache ${what} in namespace "${namespace}": ${reason}.`);
  }
}
