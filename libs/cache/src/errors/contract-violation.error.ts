import { CacheError } from './cache-error';

/**
 * Code you plugged in broke its interface's contract: an `EncryptionProvider` that returned something
 * other than a string, an `EvictionStrategy` that named an empty slot, a `@Warmup` method that
 * returned something other than entries, a count or nothing. The message names the part.
 */
export class ContractViolationError extends CacheError {
  readonly code = 'CACHE_CONTRACT_VIOLATION';
}
