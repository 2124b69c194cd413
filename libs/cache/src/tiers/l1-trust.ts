/**
 * What an L1 copy's freshness depends on: something that tells this instance about changes made
 * elsewhere (the invalidation bus, Redis key tracking, or both) and knows whether it is delivering.
 */
export interface L1Trust {
  /** L1 hits are served only while this is true. */
  readonly trusted: boolean;
  /** Whether a copy filled since the last resync is still within the staleness bound at `now` (fallback reads while L2 is down). */
  confirmedAt(now: number): boolean;
}

/** Trusted only while both are: a copy is fresh only if neither could have missed a change. */
export function bothTrusted(a: L1Trust, b: L1Trust): L1Trust {
  return {
    get trusted() {
      return a.trusted && b.trusted;
    },
    confirmedAt: (now) => a.confirmedAt(now) && b.confirmedAt(now),
  };
}
