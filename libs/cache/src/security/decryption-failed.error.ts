import { CacheError } from '../errors/cache-error';

/**
 * Why a payload was refused. `malformed`: not a payload of this provider (bad encoding, truncated,
 * wrong length); `unknown-version`: a format version this code does not know; `unknown-key`: sealed
 * with a key id that is not configured; `authentication-failed`: altered, or sealed for another
 * entry or namespace, or with another key; `expired`: older than the provider's maximum age.
 */
export type DecryptionFailureReason = 'malformed' | 'unknown-version' | 'unknown-key' | 'authentication-failed' | 'expired';

/** Thrown by an `EncryptionProvider` for a payload it cannot authenticate. Carries no key and no data. */
export class DecryptionFailedError extends CacheError {
  readonly code = 'CACHE_DECRYPTION_FAILED';

  constructor(
    readonly provider: string,
    readonly reason: DecryptionFailureReason,
  ) {
    super(`The "${provider}" encryption provider refused a payload: ${reason}`);
  }
}
