import { CacheBackend } from '../backends/cache-backend.interface';
import { CodecOptions, ValueCodec } from '../codec/value-codec';
import { CacheEvents } from '../events/cache-events';
import { ByteStore } from './byte-store';
import { LiveStore } from './live-store';
import { NamespaceStore } from './namespace-store';

/** The store of a namespace on one backend, with its codec: live values as they are, or payloads through the codec. */
export function singleTierStore(options: CodecOptions, backend: CacheBackend, events: CacheEvents): NamespaceStore {
  // Live values never leave the process: they are measured, not serialized or sealed.
  const codec = new ValueCodec(options, backend.name, events, !backend.storesLiveValues, backend.storesBytes === true);
  return backend.storesLiveValues ? new LiveStore(backend, codec) : new ByteStore(backend, codec);
}
