/**
 * 32-bit hash of a cache key: FNV-1a over the UTF-16 code units, then the murmur3 finaliser so that
 * every input bit reaches every output bit (the sketch takes its block and its counters from
 * different bits of this one number). Computed once per insert; hits reuse the stored value.
 */
export function hashKey(key: string): number {
  // FNV-1a 32-bit offset basis and prime (Fowler, Noll, Vo).
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // murmur3 fmix32 (Appleby): two xor-shift-multiply rounds with its published constants.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}
