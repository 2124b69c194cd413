import { CacheError } from '../errors/cache-error';

/**
 * An encryption key that is missing, of the wrong length, or weak. `path` says which one, relative to
 * the provider's options (`keys[1].key`). The message never contains key material.
 */
export class InvalidEncryptionKeyError extends CacheError {
  readonly code = 'CACHE_INVALID_ENCRYPTION_KEY';

  constructor(
    readonly reason: string,
    readonly path = '',
  ) {
    super(`Invalid encryption key${path ? ` at ${path}` : ''}: ${reason}`);
  }
}
