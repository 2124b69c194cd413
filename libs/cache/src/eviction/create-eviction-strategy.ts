import { AdaptiveStrategy } from './adaptive/adaptive-strategy';
import { EvictionStrategy, EvictionStrategyFactory } from './eviction-strategy.interface';
import { LfuStrategy } from './lfu-strategy';
import { LruStrategy } from './lru-strategy';

/** The built-in strategies by name; anything else is a user's factory. */
export type EvictionPolicy = 'lru' | 'lfu' | 'adaptive' | EvictionStrategyFactory;

export const BUILT_IN_EVICTION_POLICIES = ['lru', 'lfu', 'adaptive'] as const;

export function evictionStrategyFactory(policy: EvictionPolicy): EvictionStrategyFactory {
  if (policy === 'lru') return (): EvictionStrategy => new LruStrategy();
  if (policy === 'lfu') return (): EvictionStrategy => new LfuStrategy();
  if (policy === 'adaptive') return (): EvictionStrategy => new AdaptiveStrategy();
  return policy;
}
