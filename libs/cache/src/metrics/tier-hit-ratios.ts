type TierFigures = { hits?: number; misses?: number };

/**
 * `stats().tiers` with a `hitRatio` added to each tier (hits / (hits + misses), 0 before the first
 * lookup), for backends that report tiers; `{}` for the others, so that it can be spread into stats.
 */
export function tierHitRatios(backendStats: object): { tiers?: Record<string, TierFigures & { hitRatio: number }> } {
  const tiers = (backendStats as { tiers?: Record<string, TierFigures | undefined> }).tiers;
  if (tiers === undefined || tiers === null || typeof tiers !== 'object') return {};
  const out: Record<string, TierFigures & { hitRatio: number }> = {};
  for (const [tier, figures] of Object.entries(tiers)) {
    if (figures === undefined || figures === null) continue;
    const hits = figures.hits ?? 0;
    const lookups = hits + (figures.misses ?? 0);
    out[tier] = { ...figures, hitRatio: lookups === 0 ? 0 : hits / lookups };
  }
  return { tiers: out };
}
