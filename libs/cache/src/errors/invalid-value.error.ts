import { CacheError } from './cache-error';

/**
 * A value that cannot be cached: `undefined`, a function, a symbol, a promise, a circular
 * structure, or one nested too deeply. `path` points at the offending part (`value.tracks[2].play`).
 * Nothing is stored when this is thrown.
 */
export class InvalidValueError extends CacheError {
  readonly code = 'CACHE_INVALID_VALUE';

  constructor(
    readonly namespace: string,
    readonly path: string,
    readonly reason: string,
  ) {
    super(`Cannot cache the value in namespace "${namespace}": ${path} is ${reason}.`);
  }
}
