import { CacheError } from './cache-error';

/** The value's size (serialized bytes, or the estimated heap size in memory) is over the namespace limit. */
export class ValueTooLargeError extends CacheError {
  readonly code = 'CACHE_VALUE_TOO_LARGE';

  constructor(
    readonly namespace: string,
    readonly sizeBytes: number,
    readonly limitBytes: number,
    readonly limitName: string,
  ) {
    super(
      `Value too large for namespace "${namespace}": ${sizeBytes} bytes, limit ${limitBytes} bytes ` +
        `(${limitName}). Store a smaller value or raise namespaces.${namespace}.${limitName}.`,
    );
  }
}
