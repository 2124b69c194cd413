import { ValueCodec } from '../codec/value-codec';
import { CacheEvents } from '../events/cache-events';
import { BackendContext, CacheBackend, CacheBackendFactory } from '../backends/cache-backend.interface';
import { MemoryBackend } from '../backends/memory/memory-backend';
import { RedisBackendFactory } from '../backends/redis/redis-backend.factory';
import { RedisLock } from '../backends/redis/redis-lock';
import { CircuitBreaker } from './circuit-breaker';
import { InvalidationBus } from './invalidation-bus';
import { RedisKeyTracking } from './key-tracking';
import { trackedTopology } from './tracked-nodes';
import { ResolvedResilienceOptions } from './tier-options';
import { TwoTierStore } from './two-tier-store';

export interface TierRuntimeOptions {
  bus?: { secrets: readonly string[]; channel: string; heartbeatMs: number; replayWindowMs: number };
  /** Heartbeat of Redis key tracking (namespaces whose `l1.coherence` is `'tracking'` or `'both'`). */
  trackingHeartbeatMs?: number;
  breaker: { failureThreshold: number; openMs: number };
  events: CacheEvents;
}

/**
 * Builds the `TwoTierStore` of each namespace with an `l1`, and holds what they share in one
 * application: one circuit breaker per L2 backend (they
 * share its connection, so they fail together), and one invalidation bus and one key tracking on the
 * Redis connections (each made only if a namespace's `l1.coherence` uses it).
 */
export class TierRuntime {
  private readonly breakers = new Map<string, CircuitBreaker>();
  /** Undoes the connection listeners of `watchReadiness`. */
  private readonly unwatch: (() => void)[] = [];
  private bus: InvalidationBus | undefined;
  private tracking: RedisKeyTracking | undefined;
  private started = false;

  constructor(private readonly options: TierRuntimeOptions) {}

  /**
   * The two-tier store of one namespace: a fresh L1 in front of `l2` (built by `factory` for the
   * namespace), with the breaker of `backendName`, the bus and the lock when it is Redis, and the
   * namespace's `codec` for the L2 bodies. `traced`: the namespace makes spans (tiers mark `cache.tier`).
   */
  store(
    context: BackendContext, resilience: ResolvedResilienceOptions, l2: CacheBackend, backendName: string, factory: CacheBackendFactory,
    codec: ValueCodec, traced = false,
  ): TwoTierStore {
    const redis = factory instanceof RedisBackendFactory ? factory : undefined;
    const coherence = resilience.l1.coherence ?? 'bus';
    return new TwoTierStore({
      namespace: context.namespace,
      l1: new MemoryBackend({
        maxEntries: resilience.l1.maxEntries,
        strategy: resilience.l1.eviction(),
        namespace: context.namespace,
        onRemove: context.onRemove,
      }),
      l2,
      codec,
      l1TtlMs: resilience.l1.ttlMs,
      outageWrites: resilience.l1.outageWrites,
      graceMs: resilience.graceMs,
      l2ReadSoftTimeoutMs: resilience.softTimeoutMs,
      earlyRefresh: resilience.earlyRefresh,
      breaker: this.breaker(backendName, redis),
      bus: redis && coherence !== 'tracking' ? this.busOn(redis) : undefined,
      tracking: redis && coherence !== 'bus' ? { source: this.trackingOn(redis), prefix: context.keyPrefix } : undefined,
      lock: redis && resilience.lock ? new RedisLock(redis.connections, context.keyPrefix, context.namespace) : undefined,
      events: this.options.events,
      traced,
    });
  }

  /** Starts the bus once every tiered namespace is registered on it (later calls do nothing). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.bus?.start();
    this.tracking?.start();
  }

  async close(): Promise<void> {
    for (const undo of this.unwatch.splice(0)) undo();
    for (const breaker of this.breakers.values()) breaker.stop();
    await this.bus?.stop();
    await this.tracking?.stop();
  }

  private breaker(backendName: string, redis: RedisBackendFactory | undefined): CircuitBreaker {
    let breaker = this.breakers.get(backendName);
    if (breaker === undefined) {
      breaker = new CircuitBreaker(backendName, this.options.breaker);
      breaker.onChange((state) => {
        if (this.options.events.has('backendState')) this.options.events.emit('backendState', { backend: backendName, state });
      });
      this.breakers.set(backendName, breaker);
      if (redis) this.watchReadiness(breaker, redis);
    }
    return breaker;
  }

  /**
   * A command connection that is ready again means Redis answers: probe at once rather than at the
   * breaker's next timer, so that writes stop going to L1 only (and being dropped at recovery) as
   * soon as Redis is back.
   */
  private watchReadiness(breaker: CircuitBreaker, redis: RedisBackendFactory): void {
    const probe = (): void => breaker.probeNow();
    for (const connection of redis.connections.commandConnections) {
      connection.on('ready', probe);
      this.unwatch.push(() => connection.off('ready', probe));
    }
  }

  /** One key tracking per app, on the Redis connections every namespace shares. */
  private trackingOn(redis: RedisBackendFactory): RedisKeyTracking {
    this.tracking ??= new RedisKeyTracking(trackedTopology(redis.connections), this.options.trackingHeartbeatMs ?? 1_000);
    return this.tracking;
  }

  private busOn(redis: RedisBackendFactory): InvalidationBus {
    // Validation guarantees bus options whenever a tier sits on Redis.
    this.bus ??= new InvalidationBus(redis.connections, redis.connections.createSubscriber(), this.options.bus!);
    return this.bus;
  }
}
