import { CacheError } from './cache-error';

/** A namespace that was not configured in `CacheModule.forRoot({ namespaces })`. */
export class UnknownNamespaceError extends CacheError {
  readonly code = 'CACHE_UNKNOWN_NAMESPACE';

  constructor(
    readonly namespace: string,
    known: readonly string[],
  ) {
    super(
      `Unknown cache namespace "${namespace}". Configured namespaces: ${known.join(', ')}. ` +
        `Declare it under CacheModule options "namespaces".`,
    );
  }
}
