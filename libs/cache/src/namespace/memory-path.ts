import { StoredKey } from '../keys/namespace-keys';
import { LiveStore } from '../store/live-store';
import { PathContext } from './path-context';
import { ReadPath } from './read-path';

/** A synchronous live-value backend, whose hits need no await. */
type FastBackend = { get(key: string): unknown };

const RESOLVED_UNDEFINED: Promise<undefined> = Promise.resolve(undefined);

/**
 * Reads on a synchronous store of live values (memory): a hit is one synchronous lookup and an
 * already-resolved promise, with no closure. In an open namespace (no RBAC, no scope) a key is
 * validated and canonicalised on a miss only, because only valid canonical keys are ever stored.
 */
export class MemoryPath extends ReadPath {
  private readonly backend: FastBackend;
  private readonly open: boolean;

  constructor(store: LiveStore, context: PathContext) {
    super(store, context);
    this.backend = store.backend as FastBackend;
    this.open = context.access.open;
  }

  override get(key: string): Promise<unknown> {
    if (!this.open) return super.get(key);
    let value: unknown;
    try {
      value = this.backend.get(key);
    } catch (error) {
      return Promise.reject(this.context.fail('get', error));
    }
    if (value !== undefined) {
      this.counters.hits++;
      return Promise.resolve(value);
    }
    return this.miss(key);
  }

  override lookup(key: StoredKey): Promise<unknown> {
    let value: unknown;
    try {
      value = this.backend.get(key);
    } catch (error) {
      return Promise.reject(this.context.fail('get', error));
    }
    if (value === undefined) return this.missed();
    this.counters.hits++;
    return Promise.resolve(value);
  }

  /** The value of a stored key, synchronously (`getOrSetSync`); throws the namespace's typed failure. */
  peek(key: StoredKey): unknown {
    try {
      return this.backend.get(key);
    } catch (error) {
      throw this.context.fail('get', error);
    }
  }

  private miss(key: string): Promise<unknown> {
    let canonical: StoredKey;
    try {
      canonical = this.context.access.key('get', key);
    } catch (error) {
      return Promise.reject(error);
    }
    // Another spelling of a stored key (e.g. NFD for NFC): look the stored one up.
    return canonical === key ? this.missed() : this.lookup(canonical);
  }

  private missed(): Promise<undefined> {
    this.counters.misses++;
    return RESOLVED_UNDEFINED;
  }
}
