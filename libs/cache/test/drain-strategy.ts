import { EvictionStrategy } from '../src/eviction/eviction-strategy.interface';

/** Evicts until empty, returning the victims in order; fails if the structure never empties. */
export function drain(strategy: EvictionStrategy): number[] {
  const order: number[] = [];
  for (let victim = strategy.victim(); victim !== -1; victim = strategy.victim()) {
    if (order.length > 10_000) throw new Error('victim() never reached -1: the structure has a cycle');
    order.push(victim);
    strategy.remove(victim);
  }
  return order;
}
