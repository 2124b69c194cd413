import { CacheError } from '../errors/cache-error';

/** Thrown by a serializer's decoder for a payload it did not write (valid JSON or MessagePack, but not a value it produces): a miss, and the entry is dropped. */
export class CorruptPayloadError extends CacheError {
  readonly code = 'CACHE_CORRUPT_PAYLOAD';
}
