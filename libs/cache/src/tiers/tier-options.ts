import { CacheBackend } from '../backends/cache-backend.interface';
import { MemoryBackend } from '../backends/memory/memory-backend';
import { RedisLock } from '../backends/redis/redis-lock';
import { ValueCodec } from '../codec/value-codec';
import { CacheEvents } from '../events/cache-events';
import { EvictionPolicy } from '../eviction/create-eviction-strategy';
import { EvictionStrategyFactory } from '../eviction/eviction-strategy.interface';
import { Ttl } from '../ttl/parse-ttl';
import { CircuitBreaker } from './circuit-breaker';
import { InvalidationBus } from './invalidation-bus';
import type { KeyTrackingSource } from './key-tracking';

/** `namespaces.<name>.l1`: an in-process tier in front of the namespace's (shared) backend. */
export interface L1Options {
  /** Entries kept in this process. Default 10 000. */
  maxEntries?: number;
  /** Longest life of an L1 copy; also caps how stale a copy can be if the bus misses a message. Default: the entry's TTL. */
  ttl?: Ttl;
  /** `'lru'` (default), `'lfu'`, or a factory of your own strategy. */
  eviction?: EvictionPolicy;
  /**
   * A `set`/`mset` made while the shared backend is down: `'l1'` (default) keeps the value in this
   * instance's L1 only, reported by a `fallback` event with `l1Only: true` and dropped at recovery;
   * `'throw'` rejects it with `BackendUnavailableError`, like a namespace without tiers.
   */
  outageWrites?: 'l1' | 'throw';
  /**
   * What keeps this L1 coherent with Redis and the other instances (Redis backend only; default: the
   * module's `l1Coherence`, else `'bus'`):
   * - `'bus'`: the library's signed invalidation bus; writes of other clients of Redis are not seen
   *   until the copy's TTL.
   * - `'tracking'`: Redis itself (`CLIENT TRACKING ... BCAST PREFIX <namespace prefix>`) tells every
   *   instance about every change of the namespace's keys, whoever made it (another service,
   *   `redis-cli`); no bus needed.
   * - `'both'`: both; a copy is served only while both are trusted, and either drops it.
   */
  coherence?: L1Coherence;
}

/** How an L1 on Redis learns about changes made elsewhere (see `L1Options.coherence`). */
export type L1Coherence = 'bus' | 'tracking' | 'both';

/** `namespaces.<name>.failSafe` (needs `l1`). */
export interface FailSafeOptions {
  /** How long past its TTL an entry is kept to answer when the loader fails or times out, or L2 is down. */
  grace: Ttl;
  /**
   * With a stale value at hand, answer with it after this long and let the loader finish in the
   * background. Also bounds a read that has an L1 copy at hand (stale, or fresh while the bus is
   * distrusted): when Redis has not answered in this time (e.g. during a failover), the copy answers.
   */
  softTimeout?: Ttl;
  /** Give up waiting for the loader after this long: stale value, or `LoaderTimeoutError`. The loader still finishes and is cached. */
  hardTimeout?: Ttl;
  /**
   * Early refresh: a `getOrSet` hit on an entry older than this share of its TTL (e.g. 0.8) returns it
   * and reloads it in the background (one instance per key when `lock` is on), so hot keys never expire.
   */
  earlyRefresh?: number;
}

/** `namespaces.<name>.lock` (needs `l1` on `redis`): one loader per key across instances. */
export interface LockOptions {
  /** Lock lifetime, extended while its loader runs; waiters never wait longer. Default 10 s. */
  ttl?: Ttl;
  /** How often waiters look for the holder's value. Default 25 ms. */
  pollInterval?: Ttl;
}

/** Module option `bus`: the authenticated L1 invalidation bus. */
export interface BusOptions {
  /** HMAC-SHA256 key shared by every instance: a random key, base64 or hex of at least 32 bytes (`openssl rand -base64 32`), or several for rotation (the first signs). */
  secret: string | string[];
  /** Pub/sub channel. Default `<keyPrefix>__bus`. */
  channel?: string;
  /** Own heartbeat period; the L1s are distrusted after 3 missed. Default 1 s. */
  heartbeat?: Ttl;
  /**
   * A message sent longer ago than this (or this far ahead, by the receiver's clock) is dropped: a
   * captured message can be replayed to an instance that never saw it only within this window. The
   * clocks of the instances must agree within it (NTP). Default 30 s.
   */
  replayWindow?: Ttl;
}

/** Module option `breaker`: the circuit breaker of each shared backend behind tiers. */
export interface BreakerOptions {
  /** Consecutive failed calls that open the circuit. Default 5. */
  failureThreshold?: number;
  /** How long it stays open before a recovery probe. Default 5 s. */
  openFor?: Ttl;
}

/** The tier settings of one namespace after validation. */
export interface ResolvedResilienceOptions {
  readonly l1: {
    readonly maxEntries: number; readonly ttlMs: number; readonly eviction: EvictionStrategyFactory; readonly outageWrites: 'l1' | 'throw';
    /** On Redis only (elsewhere there is neither bus nor tracking); undefined = `'bus'`. */
    readonly coherence?: L1Coherence;
  };
  readonly graceMs: number;
  readonly softTimeoutMs: number;
  readonly hardTimeoutMs: number;
  /** 0 = off; else the share of the TTL after which a hit triggers a background reload. */
  readonly earlyRefresh: number;
  readonly lock: { readonly ttlMs: number; readonly pollMs: number } | null;
}

/** What a `TwoTierStore` is built from (by `TierRuntime`, per namespace). */
export interface TwoTierStoreOptions {
  namespace: string;
  /** L1: live values (as `L1Entry`), bounded, in this process. */
  l1: MemoryBackend;
  /** L2: a byte backend shared by the instances (Redis). */
  l2: CacheBackend;
  /** The namespace's codec: L2 bodies are exactly what a byte backend of the namespace would get. */
  codec: ValueCodec;
  /** Longest time an entry lives in L1; 0 = as long as in L2. */
  l1TtlMs: number;
  /** Fail-safe: how long past its TTL an entry is kept for stale answers; 0 = none. */
  graceMs: number;
  /**
   * `failSafe.softTimeout`: a read that has an L1 copy at hand (stale, or fresh while the bus is
   * distrusted) answers with it when L2 has not answered within this time, e.g. while a Sentinel or
   * Cluster failover holds commands back; the L2 read finishes in the background. 0 = wait for L2.
   */
  l2ReadSoftTimeoutMs?: number;
  /** Share of the TTL after which a `getOrSet` hit reloads in the background; 0 = off. */
  earlyRefresh?: number;
  /**
   * A `set`/`mset` that cannot reach L2: `'l1'` keeps it in this instance's L1 only (reported by a
   * `fallback` event with `l1Only: true`, dropped at recovery); `'throw'` rejects it with
   * `BackendUnavailableError` and keeps nothing. Default `'l1'`.
   */
  outageWrites?: 'l1' | 'throw';
  breaker: CircuitBreaker;
  /** The bus, when the namespace's coherence uses it (publishes and receives). */
  bus?: InvalidationBus;
  /** Redis key tracking, when the namespace's coherence uses it, and the key prefix it watches. */
  tracking?: { source: KeyTrackingSource; prefix: string };
  lock?: RedisLock;
  events: CacheEvents;
  /** The namespace makes spans: mark `cache.tier` on the active (cache) span. Off: never touch an app's span. */
  traced?: boolean;
}
