/** Where an evicted entry was: the recency window or the frequency-ruled main space. */
export const FROM_WINDOW = 1;
export const FROM_MAIN = 2;

/**
 * Ghost entries: the hashes of recently evicted keys and where each was evicted from, so that a
 * miss on one of them can be counted as a regret of that segment (ARC's ghost lists B1/B2, Megiddo
 * & Modha, FAST '03). Lossy on purpose: a direct-mapped table of one hash and one stamp per slot,
 * sized to the cache; a collision forgets the older ghost. A ghost counts only while fewer than
 * `horizon` evictions have happened since (ARC keeps as many ghosts as the cache has entries).
 */
export class EvictionHistory {
  private hashes = new Int32Array(0);
  /** (eviction number << 2) | origin; 0 = empty. Eviction numbers wrap at 2^30. */
  private stamps = new Int32Array(0);
  private mask = 0;
  private evictions = 0;
  /**
   * Evictions per origin over about the last `horizon` evictions (exponentially decayed): the sizes
   * of ARC's two ghost lists, whose ratio scales each adjustment.
   */
  fromWindow = 1;
  fromMain = 1;

  ensureCapacity(capacity: number): void {
    let size = 1;
    while (size < capacity) size *= 2;
    if (size <= this.hashes.length) return;
    this.hashes = new Int32Array(size);
    this.stamps = new Int32Array(size);
    this.mask = size - 1;
  }

  record(hash: number, origin: number, horizon: number): void {
    const at = hash & this.mask;
    this.evictions = (this.evictions + 1) & 0x3fffffff;
    this.hashes[at] = hash;
    this.stamps[at] = (this.evictions << 2) | origin;
    const keep = 1 - 1 / Math.max(1, horizon);
    this.fromWindow = this.fromWindow * keep + (origin === FROM_WINDOW ? 1 : 0);
    this.fromMain = this.fromMain * keep + (origin === FROM_MAIN ? 1 : 0);
  }

  /** The origin of the key's ghost if it was evicted within the last `horizon` evictions (and forgets it), else 0. */
  take(hash: number, horizon: number): number {
    const at = hash & this.mask;
    const stamp = this.stamps[at];
    if (stamp === 0 || this.hashes[at] !== hash) return 0;
    this.stamps[at] = 0;
    const age = (this.evictions - (stamp >>> 2)) & 0x3fffffff;
    return age < horizon ? stamp & 3 : 0;
  }
}
