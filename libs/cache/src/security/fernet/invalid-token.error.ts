import { CacheError } from '../../errors/cache-error';

/**
 * A Fernet token that is malformed, not signed by this key, expired (older than the TTL given to
 * `decrypt`) or dated too far in the future. Like Python's `cryptography.fernet.InvalidToken`, it
 * does not say which (`reason` does, for logs and the cache's tamper events).
 */
export class InvalidTokenError extends CacheError {
  readonly code = 'CACHE_INVALID_TOKEN';

  constructor(readonly reason: 'malformed' | 'unknown-version' | 'authentication-failed' | 'expired' = 'authentication-failed') {
    super('Invalid Fernet token');
  }
}
