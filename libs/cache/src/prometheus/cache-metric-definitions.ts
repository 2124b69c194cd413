import { NamespaceStats } from '../observability/namespace-stats';

/** Labels every cache series carries. Never a key: cardinality is namespaces × backends × a few fixed words. */
export type SeriesLabels = Record<string, string>;
export type Series = [labels: SeriesLabels, value: number];

export interface CounterOrGaugeDefinition {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge';
  readonly labelNames: readonly string[];
  readonly series: (stats: NamespaceStats, base: SeriesLabels) => Series[];
}

/** Fields that other parts of the cache add to `NamespaceStats` when present (tamper, tiers, fallbacks…). */
interface OptionalStats {
  tamperDetected?: number;
  coalesced?: number;
  staleServed?: number;
  fallbacks?: number;
  tiers?: Record<string, { hits?: number; misses?: number; sets?: number; errors?: number } | undefined>;
}

const BASE = ['namespace', 'backend'] as const;
const optional = (stats: NamespaceStats): OptionalStats => stats as NamespaceStats & OptionalStats;
const one = (base: SeriesLabels, value: number | undefined): Series[] => (value === undefined ? [] : [[base, value]]);

function tierSeries(field: 'hits' | 'misses' | 'sets' | 'errors') {
  return (stats: NamespaceStats, base: SeriesLabels): Series[] => {
    const tiers = optional(stats).tiers ?? {};
    return Object.entries(tiers)
      .filter(([, tier]) => typeof tier?.[field] === 'number')
      .map(([tier, figures]) => [{ ...base, tier }, figures![field]!]);
  };
}

/** Every counter and gauge the module exports, computed from `stats()` at scrape time. */
export const CACHE_METRICS: readonly CounterOrGaugeDefinition[] = [
  { name: 'nest_cachekit_hits_total', help: 'Lookups answered from the cache.', type: 'counter', labelNames: BASE, series: (s, b) => one(b, s.hits) },
  { name: 'nest_cachekit_misses_total', help: 'Lookups the cache could not answer.', type: 'counter', labelNames: BASE, series: (s, b) => one(b, s.misses) },
  { name: 'nest_cachekit_sets_total', help: 'Entries written (set, mset, getOrSet and decorator loads).', type: 'counter', labelNames: BASE, series: (s, b) => one(b, s.sets) },
  { name: 'nest_cachekit_invalidations_total', help: 'Entries removed on request (invalidate calls, entries removed by tag or clear).', type: 'counter', labelNames: BASE, series: (s, b) => one(b, s.invalidations) },
  {
    name: 'nest_cachekit_evictions_total',
    help: 'Entries that left the cache, by reason: capacity (evicted to stay in bounds), expiry (TTL; memory only), explicit (invalidated).',
    type: 'counter',
    labelNames: [...BASE, 'reason'],
    series: (s, b) => [
      ...one({ ...b, reason: 'capacity' }, s.evictions),
      ...one({ ...b, reason: 'expiry' }, s.expirations),
      ...one({ ...b, reason: 'explicit' }, s.invalidations),
    ],
  },
  {
    name: 'nest_cachekit_errors_total',
    help: 'Failures, by kind: backend (a backend call failed), unreadable (a stored entry could not be decoded and was dropped).',
    type: 'counter',
    labelNames: [...BASE, 'kind'],
    series: (s, b) => [[{ ...b, kind: 'backend' }, s.errors], [{ ...b, kind: 'unreadable' }, s.unreadableDropped]],
  },
  { name: 'nest_cachekit_tamper_detections_total', help: 'Encrypted entries that failed authentication (treated as misses).', type: 'counter', labelNames: BASE, series: (s, b) => one(b, optional(s).tamperDetected ?? 0) },
  { name: 'nest_cachekit_coalesced_total', help: 'getOrSet calls that joined a load already running for the same key instead of starting one.', type: 'counter', labelNames: BASE, series: (s, b) => one(b, optional(s).coalesced ?? 0) },
  { name: 'nest_cachekit_fallbacks_total', help: 'Operations served by a fallback path while a backend was failing.', type: 'counter', labelNames: BASE, series: (s, b) => one(b, optional(s).fallbacks ?? 0) },
  { name: 'nest_cachekit_stale_served_total', help: 'Stale entries served because the loader or the backend failed.', type: 'counter', labelNames: BASE, series: (s, b) => one(b, optional(s).staleServed ?? 0) },
  { name: 'nest_cachekit_tier_hits_total', help: 'Lookups answered by one tier (l1, l2) of a tiered namespace.', type: 'counter', labelNames: [...BASE, 'tier'], series: tierSeries('hits') },
  { name: 'nest_cachekit_tier_misses_total', help: 'Lookups one tier (l1, l2) of a tiered namespace could not answer.', type: 'counter', labelNames: [...BASE, 'tier'], series: tierSeries('misses') },
  { name: 'nest_cachekit_tier_sets_total', help: 'Writes to one tier (l1, l2) of a tiered namespace.', type: 'counter', labelNames: [...BASE, 'tier'], series: tierSeries('sets') },
  { name: 'nest_cachekit_tier_errors_total', help: 'Failed calls to one tier (l1, l2) of a tiered namespace.', type: 'counter', labelNames: [...BASE, 'tier'], series: tierSeries('errors') },
  { name: 'nest_cachekit_entries', help: 'Entries held (backends that know it: memory).', type: 'gauge', labelNames: BASE, series: (s, b) => one(b, s.entries) },
  { name: 'nest_cachekit_bytes', help: 'Estimated bytes held (backends that know it: memory).', type: 'gauge', labelNames: BASE, series: (s, b) => one(b, s.bytes) },
];

export const OPERATION_DURATION_METRIC = 'nest_cachekit_operation_duration_seconds';
