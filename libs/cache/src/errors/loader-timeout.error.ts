import { CacheError } from './cache-error';

/** A `getOrSet` loader passed the namespace's `failSafe.hardTimeout` and no stale value could answer instead. */
export class LoaderTimeoutError extends CacheError {
  readonly code = 'CACHE_LOADER_TIMEOUT';

  constructor(readonly namespace: string, readonly timeoutMs: number) {
    super(
      `The getOrSet loader in namespace "${namespace}" did not finish within its hard timeout of ${timeoutMs} ms; ` +
        'it keeps running in the background and its value is cached when it arrives.',
    );
  }
}
