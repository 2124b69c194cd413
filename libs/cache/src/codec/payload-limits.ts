/**
 * How large a stored payload of a namespace may be. `maxValueBytes` bounds the serializer's text; what
 * a byte backend stores is larger when encryption is on (the provider's header, nonce or IV, tag or
 * HMAC, padding, Fernet's bound namespace and key, all base64: 4/3 of the bytes), and a tier's L2
 * payload adds its expiry envelope. Reads refuse anything larger (the Redis backend without reading
 * it), and writes refuse a sealed payload larger than this, so that what a namespace writes it can read.
 * A binary payload (frame, seal without base64, compression only where it saves bytes) is always
 * within the same bound, except an unsealed frame of a byte serializer: its bytes plus the frame's 3.
 */
import { isBinarySerializer, NamespaceSerializer } from '../serialization/binary-serializer.interface';
import { FRAME_OVERHEAD } from './payload-frame';

/** What a provider may add to the plaintext before base64, beyond the key it may bind in (AES-GCM: 62 bytes; Fernet: 57 + padding). */
const SEAL_OVERHEAD_BYTES = 1024;
/** A tier's envelope: `\x1e<freshUntil>[:<refreshAt>]\x1e`, two base-36 millisecond times (about 22 bytes). */
export const TIER_ENVELOPE_MAX_BYTES = 64;

/** The largest payload `decode` accepts for a body: the serialized text, or its sealed form. */
export function maxStoredBytes(options: { name: string; maxValueBytes: number; maxKeyLength: number; encryption?: unknown; serializer?: NamespaceSerializer }): number {
  if (options.encryption === undefined) return options.maxValueBytes + (options.serializer !== undefined && isBinarySerializer(options.serializer) ? FRAME_OVERHEAD : 0);
  // A UTF-16 unit of the namespace or key is at most 3 bytes of UTF-8 (a surrogate pair: 4 for 2 units).
  const plaintext = options.maxValueBytes + SEAL_OVERHEAD_BYTES + 3 * (options.name.length + options.maxKeyLength);
  return Math.ceil(plaintext / 3) * 4;
}

/** The bound handed to the backend (`BackendContext.maxPayloadBytes`): a body and a tier's envelope. */
export function maxPayloadBytes(options: { name: string; maxValueBytes: number; maxKeyLength: number; encryption?: unknown; serializer?: NamespaceSerializer; resilience?: unknown }): number {
  return maxStoredBytes(options) + (options.resilience === undefined ? 0 : TIER_ENVELOPE_MAX_BYTES);
}
