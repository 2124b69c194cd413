import { CacheError } from './cache-error';

export interface OptionProblem {
  /** Path of the option, e.g. `namespaces.users.ttl`. */
  readonly path: string;
  readonly reason: string;
}

/** The module options failed validation at start-up; each problem names the option's path. */
export class InvalidOptionsError extends CacheError {
  readonly code = 'CACHE_INVALID_OPTIONS';

  constructor(readonly problems: readonly OptionProblem[]) {
    super(
      `Invalid CacheModule options:\n` + problems.map((p) => `  - ${p.path}: ${p.reason}`).join('\n'),
    );
  }
}
