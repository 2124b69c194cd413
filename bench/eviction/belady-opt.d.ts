/** Hits of Belady's offline optimum (with bypass) for a cache of `size` entries; see belady-opt.js. */
export function beladyHits(ids: ArrayLike<number>, size: number, uniqueCount: number): number;
