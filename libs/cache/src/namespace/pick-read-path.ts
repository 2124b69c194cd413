import { LiveStore } from '../store/live-store';
import { NamespaceStore } from '../store/namespace-store';
import { ResolvedResilienceOptions } from '../tiers/tier-options';
import { TwoTierStore } from '../tiers/two-tier-store';
import { MemoryPath } from './memory-path';
import { PathContext } from './path-context';
import { ReadPath } from './read-path';
import { TwoTierPath } from './two-tier-path';

/** The one place a namespace's read path is chosen, once, from its store: two tiers, memory, or any other. */
export function pickReadPath(store: NamespaceStore, context: PathContext, resilience: ResolvedResilienceOptions | undefined): ReadPath {
  if (store instanceof TwoTierStore) return new TwoTierPath(store, context, resilience!);
  if (store instanceof LiveStore && store.synchronous) return new MemoryPath(store, context);
  return new ReadPath(store, context);
}
