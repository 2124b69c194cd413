import { InvalidTtlError } from '../errors/invalid-ttl.error';

/** Milliseconds (0 = no expiry) or a duration string: `'500ms'`, `'30s'`, `'5m'`, `'1h'`, `'1d'`, `'1h30m'`. */
export type Ttl = number | string;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g;
/** Redis rejects PX values that overflow its millisecond clock; ten years is a sane ceiling. */
const MAX_TTL_MS = 10 * 365 * 86_400_000;

// Parsed duration strings, so a per-call `{ ttl: '1h' }` costs a map lookup, not a regex.
const parsed = new Map<string, number>();

/** Returns the TTL in whole milliseconds (0 = no expiry) or throws `InvalidTtlError` naming `where`. */
export function parseTtl(ttl: unknown, where: string): number {
  if (typeof ttl === 'number') {
    if (!Number.isInteger(ttl) || ttl < 0) {
      throw new InvalidTtlError(where, `${ttl} is not a non-negative integer of milliseconds`);
    }
    if (ttl > MAX_TTL_MS) throw new InvalidTtlError(where, `${ttl} ms is over the 10-year maximum`);
    return ttl === 0 ? 0 : ttl; // -0 becomes 0
  }
  if (typeof ttl !== 'string') {
    throw new InvalidTtlError(where, `expected a number or a string, got ${ttl === null ? 'null' : typeof ttl}`);
  }
  const known = parsed.get(ttl);
  if (known !== undefined) return known;
  if (!DURATION.test(ttl)) throw new InvalidTtlError(where, `"${ttl.slice(0, 40)}" is not a duration string`);
  let ms = 0;
  for (const [, amount, unit] of ttl.matchAll(PART)) ms += Number(amount) * UNIT_MS[unit];
  ms = Math.round(ms);
  if (ms === 0) throw new InvalidTtlError(where, `"${ttl.slice(0, 40)}" is zero; use 0 for no expiry`);
  if (ms > MAX_TTL_MS) throw new InvalidTtlError(where, `"${ttl.slice(0, 40)}" is over the 10-year maximum`);
  if (parsed.size < 1_000) parsed.set(ttl, ms);
  return ms;
}
