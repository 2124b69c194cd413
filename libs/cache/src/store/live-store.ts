import { CacheBackend, MaybePromise } from '../backends/cache-backend.interface';
import { PreparedValue, ValueCodec } from '../codec/value-codec';
import { SingleBackendStore } from './single-backend-store';

/**
 * One backend that keeps live values (memory, or a custom one with `storesLiveValues`): values are
 * measured on the way in (`ValueCodec.measure`), never serialized or sealed, and handed back as they
 * were stored. Every call goes straight to the backend, so a synchronous backend stays synchronous.
 */
export class LiveStore extends SingleBackendStore {
  /** Every method of the backend answers a plain value: hits need no await. */
  readonly synchronous: boolean;

  constructor(backend: CacheBackend, codec: ValueCodec) {
    super(backend, codec);
    this.synchronous = backend.synchronous === true;
  }

  prepare(value: unknown, path: string): PreparedValue {
    return this.codec.measure(value, path);
  }

  get(key: string): MaybePromise<unknown> {
    return this.backend.get(key);
  }

  mget(keys: readonly string[]): MaybePromise<unknown[]> {
    return this.backend.mget(keys);
  }
}
