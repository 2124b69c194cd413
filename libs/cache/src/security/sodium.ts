/**
 * libsodium through the optional `sodium-native` package (prebuilt binaries inside the npm package).
 * Loaded on first use, once; the library installs and runs without it, and only the
 * `xchacha20-poly1305` provider needs it.
 */

/** The part of sodium-native's API the library calls. */
export interface SodiumAead {
  crypto_aead_xchacha20poly1305_ietf_encrypt(c: Buffer, m: Buffer, ad: Buffer | null, nsec: null, npub: Buffer, k: Buffer): number;
  crypto_aead_xchacha20poly1305_ietf_decrypt(m: Buffer, nsec: null, c: Buffer, ad: Buffer | null, npub: Buffer, k: Buffer): number;
}

let loaded: SodiumAead | null | undefined;

/** sodium-native, or null when it is not installed (or its binary does not load on this platform). */
export function loadSodium(): SodiumAead | null {
  if (loaded === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      loaded = require('sodium-native') as SodiumAead;
    } catch {
      loaded = null;
    }
  }
  return loaded;
}
