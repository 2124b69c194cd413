import { NamespaceAccess } from '../access/namespace-access';
import { CacheError } from '../errors/cache-error';
import { OperationObserver } from '../observability/operation-observer';
import { NamespaceStore } from '../store/namespace-store';

/** What a namespace counts (`stats()`), in this process since start-up. */
export class NamespaceCounters {
  hits = 0;
  misses = 0;
  sets = 0;
  invalidations = 0;
  errors = 0;
  invalidKeyBypasses = 0;
}

/** What the read path and the `getOrSet` handler share with their namespace. */
export interface PathContext {
  readonly name: string;
  readonly store: NamespaceStore;
  readonly access: NamespaceAccess;
  readonly counters: NamespaceCounters;
  readonly observer: OperationObserver;
  /** A backend failure, counted, reported and typed (`BackendUnavailableError`) by the namespace. */
  readonly fail: (operation: string, error: unknown) => CacheError;
}
