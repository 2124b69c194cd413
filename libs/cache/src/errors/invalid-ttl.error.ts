import { CacheError } from './cache-error';

/** A TTL that is neither a non-negative integer of milliseconds nor a duration string. */
export class InvalidTtlError extends CacheError {
  readonly code = 'CACHE_INVALID_TTL';

  constructor(
    readonly where: string,
    readonly reason: string,
  ) {
    super(
      `Invalid TTL in ${where}: ${reason}. Use milliseconds (a non-negative integer, 0 = no expiry) ` +
        `or a duration string such as '500ms', '30s', '5m', '1h', '1d' or '1h30m'.`,
    );
  }
}
