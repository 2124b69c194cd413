import { EncryptionContext } from './encryption-provider.interface';

/**
 * The additional authenticated data of the AEAD providers: `header ‖ namespace ‖ 0x00 ‖ cache key`
 * (UTF-8), written into a reusable scratch buffer. `AdditionalData.of` first grows the buffer to the
 * worst case (3 UTF-8 bytes per UTF-16 unit), since `write` would silently truncate, and a truncated
 * AAD would let two long keys share one. The buffer holds the namespace and key, never key material.
 */
export class AdditionalData {
  private scratch = Buffer.allocUnsafe(256);

  /** Valid until the next call: every native call it feeds copies or consumes it before returning. */
  of(header: Buffer, { namespace, key }: EncryptionContext): Buffer {
    const bound = header.length + 3 * (namespace.length + key.length) + 1;
    if (bound > this.scratch.length) this.scratch = Buffer.allocUnsafe(bound);
    const aad = this.scratch;
    header.copy(aad, 0);
    let at = header.length + aad.write(namespace, header.length, 'utf8');
    aad[at++] = 0;
    at += aad.write(key, at, 'utf8');
    return aad.subarray(0, at);
  }
}
