import { EncryptionContext } from './encryption-provider.interface';

/**
 * The additional authenticated data of the AEAD providers: `header ‖ namespace ‖ 0x00 ‖ cache key`
 * (UTF-8), written into a reusable scratch buffer. `AdditionalData.of` first grows the buffer to the
 * worst case (3 UTF-8 bytes per UTF-16 unit), since `write` would silently truncate, and a truncated
 * AAD would let two long keys share one. The buffer holds the namespace and key, never key material.
 * The `header ‖ namespace ‖ 0x00` prefix stays in place while calls repeat them (one namespace's
 * reads and writes), so a call usually writes only the key.
 */
export class AdditionalData {
  private scratch = Buffer.allocUnsafe(256);
  /** What the scratch's first `prefixLength` bytes hold; `prefixLength` 0: nothing yet. */
  private prefixHeader: Buffer | null = null;
  private prefixNamespace = '';
  private prefixLength = 0;

  /** Valid until the next call: every native call it feeds copies or consumes it before returning. */
  of(header: Buffer, { namespace, key }: EncryptionContext): Buffer {
    const bound = header.length + 3 * (namespace.length + key.length) + 1;
    if (bound > this.scratch.length) {
      this.scratch = Buffer.allocUnsafe(bound);
      this.prefixLength = 0;
    }
    const aad = this.scratch;
    if (this.prefixLength === 0 || header !== this.prefixHeader || namespace !== this.prefixNamespace) {
      header.copy(aad, 0);
      let at = header.length + aad.write(namespace, header.length, 'utf8');
      aad[at++] = 0;
      this.prefixHeader = header;
      this.prefixNamespace = namespace;
      this.prefixLength = at;
    }
    const at = this.prefixLength;
    return aad.subarray(0, at + aad.write(key, at, 'utf8'));
  }
}
