import { CacheBackend } from '../backends/cache-backend.interface';
import { PayloadOwner, PreparedValue, ValueCodec } from '../codec/value-codec';
import { SingleBackendStore } from './single-backend-store';

/**
 * One backend that keeps payloads (Redis, a cache-manager store, your own): values go through the
 * codec both ways (serialize, seal / open, deserialize, schema). An entry the codec refuses on the
 * way out is dropped here, only if it still holds what was read where the backend can tell
 * (`deleteIfUnchanged`); one sealed with an older key is swapped with `replaceIfUnchanged`.
 */
export class ByteStore extends SingleBackendStore implements PayloadOwner {
  readonly replace?: (key: string, payload: string | Buffer, replacement: string | Buffer) => Promise<boolean>;

  constructor(backend: CacheBackend, codec: ValueCodec) {
    super(backend, codec);
    if (typeof backend.replaceIfUnchanged === 'function') this.replace = async (key, payload, replacement) => backend.replaceIfUnchanged!(key, payload, replacement);
  }

  prepare(value: unknown, path: string, key: string): PreparedValue {
    return this.codec.encode(value, path, key);
  }

  async get(key: string): Promise<unknown> {
    const stored = await this.backend.get(key);
    // The codec's answer (a value, or a promise when the entry is dropped or swapped) is returned, not awaited here.
    return stored === undefined ? undefined : this.codec.decode(key, stored, '', this);
  }

  async mget(keys: readonly string[]): Promise<unknown[]> {
    const stored = await this.backend.mget(keys);
    const values = new Array<unknown>(keys.length);
    for (let i = 0; i < keys.length; i++) values[i] = stored[i] === undefined ? undefined : await this.codec.decode(keys[i], stored[i], '', this);
    return values;
  }

  /** Deletes an entry read as `payload` and found bad: only if it still holds it, where the backend can tell; by key otherwise. */
  async drop(key: string, payload: unknown): Promise<void> {
    if (typeof this.backend.deleteIfUnchanged === 'function') await this.backend.deleteIfUnchanged(key, payload);
    else await this.backend.delete(key);
  }
}
