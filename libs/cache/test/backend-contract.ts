/**
 * The contract every CacheBackend must meet, written once and run against each backend (memory,
 * Redis, a user-style custom backend). Values are strings so that live-value and byte-storing
 * backends are held to the same checks.
 */
import { BackendContext, CacheBackend, CacheBackendFactory } from '../src/backends/cache-backend.interface';
import { EvictionStrategy } from '../src/eviction/eviction-strategy.interface';
import { LruStrategy } from '../src/eviction/lru-strategy';

export interface ContractSubject {
  /** Called before each test; the factory must start from an empty store. */
  setUp(): Promise<CacheBackendFactory>;
  tearDown(): Promise<void>;
  /** Eviction strategy of the backends under test (memory); LRU when absent. */
  eviction?: () => EvictionStrategy;
}

let run = 0;

export function describeBackendContract(name: string, subject: ContractSubject): void {
  describe(`CacheBackend contract: ${name}`, () => {
    let factory: CacheBackendFactory;
    let backend: CacheBackend;
    let namespace: string;

    const context = (ns: string): BackendContext => ({
      namespace: ns,
      keyPrefix: `contract:{${ns}}:`,
      maxEntries: 1_000,
      maxBytes: 0,
      // Byte backends that bound their reads (Redis) run the whole contract through their bounded read.
      maxPayloadBytes: 64 * 1024,
      eviction: subject.eviction ?? (() => new LruStrategy()),
    });

    beforeEach(async () => {
      factory = await subject.setUp();
      namespace = `ns${++run}`;
      backend = factory.create(context(namespace));
    });
    afterEach(() => subject.tearDown());

    it('returns undefined for a key never set', async () => {
      expect(await backend.get('missing')).toBeUndefined();
      expect(await backend.has('missing')).toBe(false);
    });

    it('returns what was set, and the newest value after an overwrite', async () => {
      await backend.set('k', 'one', 0, 3);
      expect(await backend.get('k')).toBe('one');
      await backend.set('k', 'two', 0, 3);
      expect(await backend.get('k')).toBe('two');
      expect(await backend.has('k')).toBe(true);
    });

    it('keeps keys that look like patterns or hash tags apart', async () => {
      const keys = ['a*', 'a?', '[a]', '{users}:1', 'ключ', 'a b', 'a:b:c'];
      for (const [i, key] of keys.entries()) await backend.set(key, `v${i}`, 0, 2);
      for (const [i, key] of keys.entries()) expect(await backend.get(key)).toBe(`v${i}`);
    });

    it('deletes, reporting whether there was an entry', async () => {
      await backend.set('k', 'v', 0, 1);
      expect(await backend.delete('k')).toBe(true);
      expect(await backend.get('k')).toBeUndefined();
      expect(await backend.delete('k')).toBe(false);
    });

    it('expires an entry after its TTL and keeps one without TTL', async () => {
      await backend.set('short', 'v', 40, 1);
      await backend.set('long', 'v', 60_000, 1);
      await backend.set('forever', 'v', 0, 1);
      expect(await backend.get('short')).toBe('v');
      await new Promise((r) => setTimeout(r, 120));
      expect(await backend.get('short')).toBeUndefined();
      expect(await backend.has('short')).toBe(false);
      expect(await backend.get('long')).toBe('v');
      expect(await backend.get('forever')).toBe('v');
    });

    it('mget returns values in key order with undefined for misses', async () => {
      await backend.set('a', 'A', 0, 1);
      await backend.set('c', 'C', 0, 1);
      expect(await backend.mget(['a', 'b', 'c', 'a'])).toEqual(['A', undefined, 'C', 'A']);
      expect(await backend.mget([])).toEqual([]);
    });

    it('mset writes every entry with its own TTL', async () => {
      await backend.mset([
        { key: 'x', value: 'X', ttlMs: 0, sizeBytes: 1 },
        { key: 'y', value: 'Y', ttlMs: 40, sizeBytes: 1 },
      ]);
      expect(await backend.mget(['x', 'y'])).toEqual(['X', 'Y']);
      await new Promise((r) => setTimeout(r, 120));
      expect(await backend.mget(['x', 'y'])).toEqual(['X', undefined]);
    });

    it('clear removes every entry of its namespace and none of another', async () => {
      const other = factory.create(context(`${namespace}-other`));
      for (let i = 0; i < 25; i++) await backend.set(`k${i}`, 'v', 0, 1);
      await other.set('k0', 'kept', 0, 4);
      expect(await backend.clear()).toBe(25);
      expect(await backend.get('k0')).toBeUndefined();
      expect(await other.get('k0')).toBe('kept');
      await other.clear();
    });

    it('invalidates by tag, when the backend supports tags', async () => {
      if (backend.invalidateTag === undefined) return;
      await backend.set('a', 'A', 0, 1, ['artist:1', 'genre:jazz']);
      await backend.set('b', 'B', 60_000, 1, ['artist:1']);
      await backend.set('c', 'C', 0, 1, ['genre:jazz']);
      await backend.mset([{ key: 'd', value: 'D', ttlMs: 0, sizeBytes: 1, tags: ['artist:1'] }]);
      await backend.set('e', 'E', 0, 1);
      expect(await backend.invalidateTag('artist:1')).toBe(3);
      expect(await backend.mget(['a', 'b', 'c', 'd', 'e'])).toEqual([undefined, undefined, 'C', undefined, 'E']);
      expect(await backend.invalidateTag('artist:1')).toBe(0);
      expect(await backend.invalidateTag('genre:jazz')).toBe(1);
      expect(await backend.get('c')).toBeUndefined();
      expect(await backend.clear()).toBe(1);
    });

    it('never lets one namespace read, delete or clear another namespace\'s keys', async () => {
      const other = factory.create(context(`${namespace}x`));
      await backend.set('shared', 'mine', 0, 4);
      await other.set('shared', 'theirs', 0, 6);
      expect(await backend.get('shared')).toBe('mine');
      expect(await other.get('shared')).toBe('theirs');
      await other.delete('shared');
      expect(await backend.get('shared')).toBe('mine');
      await other.clear();
    });
  });
}
