import { IsIn, IsInt, IsNumber, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { BreakerOptions, BusOptions, L1Coherence, ResolvedResilienceOptions } from './tier-options';
import { OptionProblem } from '../errors/invalid-options.error';
import { BUILT_IN_EVICTION_POLICIES, EvictionPolicy, evictionStrategyFactory } from '../eviction/create-eviction-strategy';
import { secretKeyProblem } from '../security/encryption-keys';
import { parseTtl, Ttl } from '../ttl/parse-ttl';

/*
 * Tiers and resilience options: `namespaces.<n>.l1`, `.failSafe`, `.lock`, and the module's `bus` and
 * `breaker`. Checked once at start-up by `resolveCacheOptions` like every other option, which hands
 * in its DTO check (`OptionCheck`); problems name the field path.
 */

/** `options/`' class-validator check of a DTO, each problem recorded under `path` + field. */
export type OptionCheck = (dto: new () => object, value: object, path: string, problems: OptionProblem[]) => void;

/** The module options the tiers read. */
export interface ModuleResilienceOptions {
  readonly bus?: BusOptions;
  readonly breaker?: BreakerOptions;
  readonly l1Coherence?: L1Coherence;
  readonly trackingHeartbeat?: Ttl;
}

export const L1_COHERENCE_MODES: readonly L1Coherence[] = ['bus', 'tracking', 'both'];

/** A bus secret is a random key of at least this many bytes (base64 or hex). */
export const MIN_BUS_SECRET_BYTES = 32;
const DEFAULT_L1_MAX_ENTRIES = 10_000;
const DEFAULT_LOCK_TTL_MS = 10_000;
const DEFAULT_LOCK_POLL_MS = 25;
const DEFAULT_HEARTBEAT_MS = 1_000;
const DEFAULT_REPLAY_WINDOW_MS = 30_000;
const DEFAULT_BREAKER_FAILURES = 5;
const DEFAULT_BREAKER_OPEN_MS = 5_000;

class L1OptionsDto {
  @IsOptional() @IsInt() @Min(1) @Max(100_000_000)
  maxEntries?: number;

  @IsOptional()
  ttl?: unknown;

  @IsOptional()
  eviction?: unknown;

  @IsOptional() @IsIn(['l1', 'throw'])
  outageWrites?: 'l1' | 'throw';

  @IsOptional() @IsIn(L1_COHERENCE_MODES as L1Coherence[], { message: 'must be "bus", "tracking" or "both"' })
  coherence?: L1Coherence;
}

class FailSafeOptionsDto {
  @IsOptional()
  grace?: unknown;

  @IsOptional()
  softTimeout?: unknown;

  @IsOptional()
  hardTimeout?: unknown;

  @IsOptional() @IsNumber() @Min(0.01) @Max(0.99)
  earlyRefresh?: number;
}

class LockOptionsDto {
  @IsOptional()
  ttl?: unknown;

  @IsOptional()
  pollInterval?: unknown;
}

class BusOptionsDto {
  @IsOptional()
  secret?: unknown;

  @IsOptional() @IsString() @MaxLength(256) @Matches(/^\S+$/, { message: 'must not be empty or contain whitespace' })
  channel?: string;

  @IsOptional()
  heartbeat?: unknown;

  @IsOptional()
  replayWindow?: unknown;
}

class BreakerOptionsDto {
  @IsOptional() @IsInt() @Min(1) @Max(1_000)
  failureThreshold?: number;

  @IsOptional()
  openFor?: unknown;
}

export interface ResolvedBusOptions {
  readonly secrets: readonly string[];
  readonly channel: string;
  readonly heartbeatMs: number;
  readonly replayWindowMs: number;
}

export interface ResolvedBreakerOptions {
  readonly failureThreshold: number;
  readonly openMs: number;
}

/** Checks the module-level `bus` and `breaker`; call once. */
export function checkModuleResilience(raw: ModuleResilienceOptions, problems: OptionProblem[], check: OptionCheck): void {
  const bus = raw.bus as unknown;
  if (isObject(bus)) {
    check(BusOptionsDto, bus, 'bus.', problems);
    if (Array.isArray(bus.secret) && bus.secret.length === 0) {
      problems.push({ path: 'bus.secret', reason: 'must be a random key (or a non-empty array of them, the first signing), shared by every instance' });
    } else {
      const secrets: unknown[] = Array.isArray(bus.secret) ? bus.secret : [bus.secret];
      secrets.forEach((secret, i) => {
        const problem = secretKeyProblem(secret, MIN_BUS_SECRET_BYTES);
        if (problem !== undefined) problems.push({ path: Array.isArray(bus.secret) ? `bus.secret[${i}]` : 'bus.secret', reason: problem });
      });
    }
    duration(bus.heartbeat, 'bus.heartbeat', problems, { min: 10, max: 60_000 });
    duration(bus.replayWindow, 'bus.replayWindow', problems, { min: 1_000, max: 600_000 });
  }
  if (raw.l1Coherence !== undefined && !(L1_COHERENCE_MODES as readonly unknown[]).includes(raw.l1Coherence)) {
    problems.push({ path: 'l1Coherence', reason: 'must be "bus", "tracking" or "both"' });
  }
  duration(raw.trackingHeartbeat, 'trackingHeartbeat', problems, { min: 10, max: 60_000 });
  const breaker = raw.breaker as unknown;
  if (isObject(breaker)) {
    check(BreakerOptionsDto, breaker, 'breaker.', problems);
    duration(breaker.openFor, 'breaker.openFor', problems, { min: 10, max: 600_000 });
  }
}

export function resolveBusOptions(raw: ModuleResilienceOptions, globalPrefix: string): ResolvedBusOptions | undefined {
  if (!isObject(raw.bus)) return undefined;
  const secret = raw.bus.secret;
  return {
    secrets: Array.isArray(secret) ? [...secret] : [secret],
    channel: raw.bus.channel ?? `${globalPrefix}__bus`,
    heartbeatMs: raw.bus.heartbeat === undefined ? DEFAULT_HEARTBEAT_MS : parseTtl(raw.bus.heartbeat, 'bus.heartbeat'),
    replayWindowMs: raw.bus.replayWindow === undefined ? DEFAULT_REPLAY_WINDOW_MS : parseTtl(raw.bus.replayWindow, 'bus.replayWindow'),
  };
}

/** The heartbeat of Redis key tracking: `trackingHeartbeat`, else the bus's, else 1 s. */
export function resolveTrackingHeartbeat(raw: ModuleResilienceOptions): number {
  if (raw.trackingHeartbeat !== undefined) return parseTtl(raw.trackingHeartbeat, 'trackingHeartbeat');
  return resolveBusOptions(raw, '')?.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
}

export function resolveBreakerOptions(raw: ModuleResilienceOptions): ResolvedBreakerOptions {
  const breaker = isObject(raw.breaker) ? raw.breaker : {};
  return {
    failureThreshold: breaker.failureThreshold ?? DEFAULT_BREAKER_FAILURES,
    openMs: breaker.openFor === undefined ? DEFAULT_BREAKER_OPEN_MS : parseTtl(breaker.openFor, 'breaker.openFor'),
  };
}

/**
 * Checks one namespace's `l1`, `failSafe` and `lock` (after `defaults` were merged in) and resolves
 * them; `undefined` when the namespace has no `l1`.
 */
export function resolveResilience(
  merged: { l1?: unknown; failSafe?: unknown; lock?: unknown }, backend: string, path: string, raw: ModuleResilienceOptions, problems: OptionProblem[], check: OptionCheck,
): ResolvedResilienceOptions | undefined {
  const { l1, failSafe, lock } = merged as { l1?: unknown; failSafe?: unknown; lock?: unknown };
  const before = problems.length;
  if (l1 === undefined) {
    if (failSafe !== undefined) problems.push({ path: `${path}failSafe`, reason: 'needs an "l1": grace and loader timeouts run in the tiered path' });
    if (lock !== undefined && lock !== false) problems.push({ path: `${path}lock`, reason: 'needs an "l1" on the "redis" backend' });
    return undefined;
  }
  if (!isObject(l1)) {
    problems.push({ path: `${path}l1`, reason: 'must be an object ({ maxEntries?, ttl?, eviction?, outageWrites?, coherence? })' });
    return undefined;
  }
  check(L1OptionsDto, l1, `${path}l1.`, problems);
  const l1TtlMs = duration(l1.ttl, `${path}l1.ttl`, problems, { min: 0, max: Infinity }) ?? 0;
  const eviction = l1.eviction as unknown;
  if (eviction !== undefined && typeof eviction !== 'function' && !(BUILT_IN_EVICTION_POLICIES as readonly unknown[]).includes(eviction)) {
    problems.push({ path: `${path}l1.eviction`, reason: `must be ${BUILT_IN_EVICTION_POLICIES.map((p) => `"${p}"`).join(', ')} or a function returning an EvictionStrategy` });
  }
  const ownCoherence = l1.coherence as unknown;
  const coherence: L1Coherence = (ownCoherence ?? raw.l1Coherence ?? 'bus') as L1Coherence;
  if (backend === 'memory') {
    problems.push({ path: `${path}l1`, reason: 'is set on a "memory" namespace; an L1 goes in front of a shared backend such as "redis"' });
  } else if (backend === 'redis' && coherence !== 'tracking' && !isObject(raw.bus)) {
    const field = ownCoherence === undefined ? `${path}l1` : `${path}l1.coherence`;
    problems.push({ path: field, reason: `on "redis" needs the invalidation bus (coherence "${coherence}"): set the module option "bus.secret" (the same on every instance), or use coherence "tracking"` });
  } else if (backend !== 'redis' && ownCoherence !== undefined) {
    problems.push({ path: `${path}l1.coherence`, reason: `needs the "redis" backend (the bus and key tracking are Redis features), not "${backend}"` });
  } else if (backend !== 'redis' && l1TtlMs === 0) {
    problems.push({ path: `${path}l1.ttl`, reason: `is required on the "${backend}" backend: without the Redis bus, it is what bounds a stale L1 copy` });
  }

  let graceMs = 0;
  let softTimeoutMs = 0;
  let hardTimeoutMs = 0;
  let earlyRefresh = 0;
  if (failSafe !== undefined) {
    if (!isObject(failSafe)) {
      problems.push({ path: `${path}failSafe`, reason: 'must be an object ({ grace, softTimeout?, hardTimeout? })' });
    } else {
      check(FailSafeOptionsDto, failSafe, `${path}failSafe.`, problems);
      if (failSafe.grace === undefined) problems.push({ path: `${path}failSafe.grace`, reason: 'is required (e.g. "10m")' });
      else graceMs = duration(failSafe.grace, `${path}failSafe.grace`, problems, { min: 1, max: Infinity }) ?? 0;
      softTimeoutMs = duration(failSafe.softTimeout, `${path}failSafe.softTimeout`, problems, { min: 1, max: 600_000 }) ?? 0;
      hardTimeoutMs = duration(failSafe.hardTimeout, `${path}failSafe.hardTimeout`, problems, { min: 1, max: 600_000 }) ?? 0;
      earlyRefresh = typeof failSafe.earlyRefresh === 'number' ? failSafe.earlyRefresh : 0;
      if (softTimeoutMs > 0 && hardTimeoutMs > 0 && softTimeoutMs >= hardTimeoutMs) {
        problems.push({ path: `${path}failSafe.softTimeout`, reason: `is ${softTimeoutMs} ms, not below hardTimeout (${hardTimeoutMs} ms)` });
      }
    }
  }

  let resolvedLock: ResolvedResilienceOptions['lock'] = null;
  if (lock !== undefined && lock !== false) {
    if (backend !== 'redis') {
      problems.push({ path: `${path}lock`, reason: `needs the "redis" backend (the lock is a Redis script), not "${backend}"` });
    } else if (lock === true) {
      resolvedLock = { ttlMs: DEFAULT_LOCK_TTL_MS, pollMs: DEFAULT_LOCK_POLL_MS };
    } else if (!isObject(lock)) {
      problems.push({ path: `${path}lock`, reason: 'must be true or an object ({ ttl?, pollInterval? })' });
    } else {
      check(LockOptionsDto, lock, `${path}lock.`, problems);
      const ttlMs = duration(lock.ttl, `${path}lock.ttl`, problems, { min: 10, max: 600_000 }) ?? DEFAULT_LOCK_TTL_MS;
      const pollMs = duration(lock.pollInterval, `${path}lock.pollInterval`, problems, { min: 1, max: 10_000 }) ?? DEFAULT_LOCK_POLL_MS;
      resolvedLock = { ttlMs, pollMs };
    }
  }
  if (problems.length > before) return undefined;
  return {
    l1: {
      maxEntries: (l1.maxEntries as number | undefined) ?? DEFAULT_L1_MAX_ENTRIES,
      ttlMs: l1TtlMs,
      eviction: evictionStrategyFactory((eviction ?? 'lru') as EvictionPolicy),
      outageWrites: (l1.outageWrites as 'l1' | 'throw' | undefined) ?? 'l1',
      coherence: backend === 'redis' ? coherence : 'bus',
    },
    graceMs,
    softTimeoutMs,
    hardTimeoutMs,
    earlyRefresh,
    lock: resolvedLock,
  };
}

/** A duration option in ms, `undefined` when absent or invalid (then a problem is recorded). */
function duration(value: unknown, path: string, problems: OptionProblem[], range: { min: number; max: number }): number | undefined {
  if (value === undefined) return undefined;
  let ms: number;
  try {
    ms = parseTtl(value, path);
  } catch (error) {
    problems.push({ path, reason: (error as Error).message.replace(/^Invalid TTL in \S+: /, '') });
    return undefined;
  }
  if (ms < range.min || ms > range.max) {
    problems.push({ path, reason: `must be ${range.max === Infinity ? `at least ${range.min} ms` : `from ${range.min} to ${range.max} ms`} (got ${ms} ms)` });
    return undefined;
  }
  return ms;
}

function isObject(value: unknown): value is Record<string, any> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
