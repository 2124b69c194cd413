import { CacheError } from './cache-error';

/** The backend could not carry out the operation (connection refused, timed out, closed…). */
export class BackendUnavailableError extends CacheError {
  readonly code = 'CACHE_BACKEND_UNAVAILABLE';

  constructor(
    readonly backend: string,
    readonly namespace: string,
    readonly operation: string,
    cause: unknown,
  ) {
    super(
      `Cache backend "${backend}" failed during ${operation} in namespace "${namespace}": ` +
        `${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
}
