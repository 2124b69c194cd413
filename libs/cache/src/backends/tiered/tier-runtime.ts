import { CacheEvents } from '../../events/cache-events';
import { BackendContext, CacheBackend, CacheBackendFactory } from '../cache-backend.interface';
import { MemoryBackend } from '../memory/memory-backend';
import { RedisBackendFactory } from '../redis/redis-backend.factory';
import { RedisLock } from '../redis/redis-lock';
import { CircuitBreaker } from './circuit-breaker';
import { InvalidationBus } from './invalidation-bus';
import { ResolvedResilienceOptions } from './tier-options';
import { TieredBackend } from './tiered-backend';

export interface TierRuntimeOptions {
  bus?: { secrets: readonly string[]; channel: string; heartbeatMs: number };
  breaker: { failureThreshold: number; openMs: number };
  events: CacheEvents;
}

/**
 * What the tiered namespaces of one application share: one circuit breaker per L2 backend (they
 * share its connection, so they fail together), and one invalidation bus on the Redis connection.
 */
export class TierRuntime {
  private readonly breakers = new Map<string, CircuitBreaker>();
  private bus: InvalidationBus | undefined;
  private started = false;

  constructor(private readonly options: TierRuntimeOptions) {}

  wrap(
    context: BackendContext, resilience: ResolvedResilienceOptions, l2: CacheBackend, backendName: string, factory: CacheBackendFactory,
  ): TieredBackend {
    const redis = factory instanceof RedisBackendFactory ? factory : undefined;
    return new TieredBackend({
      namespace: context.namespace,
      l1: new MemoryBackend({
        maxEntries: resilience.l1.maxEntries,
        strategy: resilience.l1.eviction(),
        namespace: context.namespace,
        onRemove: context.onRemove,
      }),
      l2,
      l1TtlMs: resilience.l1.ttlMs,
      graceMs: resilience.graceMs,
      l2ReadSoftTimeoutMs: resilience.softTimeoutMs,
      earlyRefresh: resilience.earlyRefresh,
      breaker: this.breaker(backendName),
      bus: redis ? this.busOn(redis) : undefined,
      lock: redis && resilience.lock ? new RedisLock(redis.connections, context.keyPrefix, context.namespace) : undefined,
      events: this.options.events,
    });
  }

  /** Starts the bus once every tiered namespace is registered on it (later calls do nothing). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.bus?.start();
  }

  async close(): Promise<void> {
    for (const breaker of this.breakers.values()) breaker.stop();
    await this.bus?.stop();
  }

  private breaker(backendName: string): CircuitBreaker {
    let breaker = this.breakers.get(backendName);
    if (breaker === undefined) {
      breaker = new CircuitBreaker(backendName, this.options.breaker);
      breaker.onChange((state) => {
        if (this.options.events.has('backendState')) this.options.events.emit('backendState', { backend: backendName, state });
      });
      this.breakers.set(backendName, breaker);
    }
    return breaker;
  }

  private busOn(redis: RedisBackendFactory): InvalidationBus {
    // Validation guarantees bus options whenever a tier sits on Redis.
    this.bus ??= new InvalidationBus(redis.connections, redis.connections.createSubscriber(), this.options.bus!);
    return this.bus;
  }
}
