import { ValueTooLargeError } from '../../errors/value-too-large.error';
import { EvictionStrategy } from '../../eviction/eviction-strategy.interface';
import { LfuStrategy } from '../../eviction/lfu-strategy';
import { LruStrategy } from '../../eviction/lru-strategy';
import { RemovalReason } from '../cache-backend.interface';
import { MemoryBackend, MemoryBackendOptions } from './memory-backend';
import { mulberry32 } from '../../../test/seeded-random';
import { InvalidArgumentError } from '../../errors/invalid-argument.error';

describe('MemoryBackend', () => {
  let clock: number;
  let removals: [string, RemovalReason][];

  beforeEach(() => {
    clock = 1_000_000;
    removals = [];
  });

  function backend(options: Partial<MemoryBackendOptions> = {}): MemoryBackend {
    return new MemoryBackend({
      maxEntries: 100,
      namespace: 'things',
      onRemove: (key, reason) => removals.push([key, reason]),
      now: () => clock,
      ...options,
    });
  }

  /** What an entry holds beyond its value's size: its key, tags and the backend's structure. */
  function overhead(key: string, options: { ttlMs?: number; tags?: string[]; strategy?: EvictionStrategy } = {}): number {
    return new MemoryBackend({ maxEntries: 1, strategy: options.strategy }).entryBytes(key, options.ttlMs ?? 0, 0, options.tags);
  }
  /** Of an entry with a one-character key, no TTL and no tags, with the default strategy. */
  const O = overhead('a');

  function tooLarge(action: () => void): ValueTooLargeError {
    try {
      action();
    } catch (error) {
      expect(error).toBeInstanceOf(ValueTooLargeError);
      return error as ValueTooLargeError;
    }
    throw new Error('did not throw');
  }

  describe('construction', () => {
    it.each([0, -1, 1.5, NaN])('rejects maxEntries %p', (maxEntries) => {
      expect(() => new MemoryBackend({ maxEntries })).toThrow(InvalidArgumentError);
    });

    it('reports its strategy', () => {
      expect(backend().strategyState()).toEqual({ strategy: 'lru' });
      expect(backend({ strategy: new LfuStrategy() }).strategyState()).toEqual({ strategy: 'lfu', lowestFrequency: 0 });
    });
  });

  describe('get, set, has, delete', () => {
    it('misses a key that was never set', () => {
      const store = backend();
      expect(store.get('nope')).toBeUndefined();
      expect(store.has('nope')).toBe(false);
    });

    it('returns what was set', () => {
      const store = backend();
      store.set('a', { n: 1 }, 0, 10);
      store.set('b', 'text', 0, 10);
      expect(store.get('a')).toEqual({ n: 1 });
      expect(store.get('b')).toBe('text');
      expect(store.has('a')).toBe(true);
      expect(store.stats()).toEqual({ entries: 2, bytes: 2 * O + 20, evictions: 0, expirations: 0 });
    });

    it('stores falsy values', () => {
      const store = backend();
      store.set('zero', 0, 0, 1);
      store.set('empty', '', 0, 1);
      store.set('null', null, 0, 1);
      store.set('false', false, 0, 1);
      expect([store.get('zero'), store.get('empty'), store.get('null'), store.get('false')]).toEqual([0, '', null, false]);
    });

    it('deletes an entry, returning true once and then false', () => {
      const store = backend();
      store.set('a', 1, 0, 10);
      expect(store.delete('a')).toBe(true);
      expect(store.delete('a')).toBe(false);
      expect(store.get('a')).toBeUndefined();
      expect(store.has('a')).toBe(false);
      expect(store.stats()).toEqual({ entries: 0, bytes: 0, evictions: 0, expirations: 0 });
    });

    it('does not report an explicit delete to onRemove', () => {
      const store = backend();
      store.set('a', 1, 0, 10);
      store.delete('a');
      expect(removals).toEqual([]);
    });

    it('stores values by reference', () => {
      const store = backend();
      const value = { list: [1] };
      store.set('a', value, 0, 10);
      expect(store.get('a')).toBe(value);
      value.list.push(2);
      expect(store.get('a')).toEqual({ list: [1, 2] });
    });

    it('treats keys that are not strings as misses', () => {
      const store = backend();
      store.set('1', 'one', 0, 10);
      store.set('[object Object]', 'object', 0, 10);
      for (const key of [1, {}, null, undefined, Symbol('k')] as any[]) {
        expect(store.get(key)).toBeUndefined();
        expect(store.has(key)).toBe(false);
        expect(store.delete(key)).toBe(false);
      }
      expect(store.stats().entries).toBe(2);
    });

    it('returns mget results in the order of the keys, undefined for misses', () => {
      const store = backend();
      store.set('a', 'A', 0, 1);
      store.set('b', 'B', 0, 1);
      expect(store.mget(['b', 'missing', 'a', 'b'])).toEqual(['B', undefined, 'A', 'B']);
      expect(store.mget([])).toEqual([]);
    });

    it('clears every entry, returning how many there were', () => {
      const store = backend();
      for (const key of ['a', 'b', 'c']) store.set(key, key, 0, 10);
      expect(store.clear()).toBe(3);
      expect(store.mget(['a', 'b', 'c'])).toEqual([undefined, undefined, undefined]);
      expect(store.stats()).toEqual({ entries: 0, bytes: 0, evictions: 0, expirations: 0 });
      expect(removals).toEqual([]);
      expect(store.clear()).toBe(0);
      store.set('d', 'D', 0, 10);
      expect(store.get('d')).toBe('D');
    });
  });

  describe('overwrite', () => {
    it('replaces the value and the size', () => {
      const store = backend();
      store.set('a', 'old', 0, 40);
      store.set('b', 'other', 0, 5);
      store.set('a', 'new', 0, 10);
      expect(store.get('a')).toBe('new');
      expect(store.stats()).toMatchObject({ entries: 2, bytes: 2 * O + 15 });
      store.delete('a');
      expect(store.stats()).toMatchObject({ entries: 1, bytes: O + 5 });
    });

    it('restarts the TTL', () => {
      const store = backend();
      store.set('a', 1, 100, 1); // expires at +100
      clock += 50;
      store.set('a', 2, 100, 1); // now expires at +150
      clock += 99;
      expect(store.get('a')).toBe(2);
      clock += 1;
      expect(store.get('a')).toBeUndefined();
    });

    it('removes the TTL when overwritten with ttl 0', () => {
      const store = backend();
      store.set('a', 1, 100, 1);
      store.set('a', 2, 0, 1);
      clock += 1_000_000;
      expect(store.get('a')).toBe(2);
    });

    it('adds a TTL to an entry that had none', () => {
      const store = backend();
      store.set('a', 1, 0, 1);
      store.set('a', 2, 100, 1);
      clock += 100;
      expect(store.has('a')).toBe(false);
    });

    it('does not evict anything when the store is full', () => {
      const store = backend({ maxEntries: 2 });
      store.set('a', 1, 0, 1);
      store.set('b', 2, 0, 1);
      store.set('a', 3, 0, 1);
      expect(store.mget(['a', 'b'])).toEqual([3, 2]);
      expect(removals).toEqual([]);
    });
  });

  describe('TTL', () => {
    it('keeps an entry until now reaches its expiry, then drops it', () => {
      const store = backend();
      store.set('a', 'A', 100, 1);
      clock += 99;
      expect(store.get('a')).toBe('A');
      expect(store.has('a')).toBe(true);
      clock += 1;
      expect(store.get('a')).toBeUndefined();
      expect(store.has('a')).toBe(false);
    });

    it('has() sees the expiry at the same boundary', () => {
      const store = backend();
      store.set('a', 'A', 100, 1);
      clock += 100;
      expect(store.has('a')).toBe(false);
      expect(removals).toEqual([['a', 'expired']]);
    });

    it('never expires an entry set with ttl 0', () => {
      const store = backend();
      store.set('forever', 'F', 0, 1);
      store.set('short', 'S', 10, 1);
      clock += 10 * 365 * 86_400_000;
      expect(store.get('forever')).toBe('F');
      expect(store.get('short')).toBeUndefined();
    });

    it('reports an expired entry to onRemove and counts it', () => {
      const store = backend();
      store.set('a', 'A', 100, 30);
      store.set('b', 'B', 0, 20);
      clock += 100;
      expect(store.get('a')).toBeUndefined();
      expect(removals).toEqual([['a', 'expired']]);
      expect(store.stats()).toEqual({ entries: 1, bytes: O + 20, evictions: 0, expirations: 1 });
    });

    it('reports each expired entry once', () => {
      const store = backend();
      store.set('a', 'A', 100, 1);
      clock += 100;
      store.get('a');
      store.get('a');
      store.has('a');
      expect(removals).toEqual([['a', 'expired']]);
      expect(store.stats().expirations).toBe(1);
    });

    it('returns false when deleting an expired entry, and reports it as expired', () => {
      const store = backend();
      store.set('a', 'A', 100, 1);
      clock += 100;
      expect(store.delete('a')).toBe(false);
      expect(removals).toEqual([['a', 'expired']]);
      expect(store.stats()).toMatchObject({ entries: 0, expirations: 1 });
    });

    it('misses expired entries in mget', () => {
      const store = backend();
      store.set('a', 'A', 100, 1);
      store.set('b', 'B', 200, 1);
      clock += 150;
      expect(store.mget(['a', 'b'])).toEqual([undefined, 'B']);
    });

    it('reports an expired entry chosen as eviction victim as expired, not as an eviction', () => {
      const store = backend({ maxEntries: 2 });
      store.set('a', 'A', 100, 1);
      store.set('b', 'B', 0, 1);
      clock += 100;
      store.set('c', 'C', 0, 1);
      expect(removals).toEqual([['a', 'expired']]);
      expect(store.stats()).toMatchObject({ entries: 2, evictions: 0, expirations: 1 });
    });

    it('gives a reused slot the TTL of its new entry', () => {
      const store = backend();
      store.set('a', 'A', 100, 1);
      store.delete('a');
      store.set('b', 'B', 0, 1); // likely reuses a's slot
      clock += 1_000;
      expect(store.get('b')).toBe('B');
    });
  });

  describe('entry bound', () => {
    it('evicts the least recently used entry with the default LRU strategy', () => {
      const store = backend({ maxEntries: 3 });
      store.set('a', 'A', 0, 1);
      store.set('b', 'B', 0, 1);
      store.set('c', 'C', 0, 1);
      store.get('a');
      store.set('d', 'D', 0, 1);
      expect(removals).toEqual([['b', 'capacity']]);
      expect(['a', 'b', 'c', 'd'].map((k) => store.has(k))).toEqual([true, false, true, true]);
      expect(store.stats()).toMatchObject({ entries: 3, evictions: 1, expirations: 0 });
    });

    it('evicts in least-recently-used order with an explicit LruStrategy', () => {
      const store = backend({ maxEntries: 3, strategy: new LruStrategy() });
      for (const key of ['a', 'b', 'c']) store.set(key, key, 0, 1);
      store.get('a');
      store.get('b');
      for (const key of ['d', 'e', 'f']) store.set(key, key, 0, 1);
      expect(removals).toEqual([
        ['c', 'capacity'],
        ['a', 'capacity'],
        ['b', 'capacity'],
      ]);
      expect(store.stats().evictions).toBe(3);
    });

    it('evicts the least frequently used entry with LfuStrategy', () => {
      const store = backend({ maxEntries: 3, strategy: new LfuStrategy() });
      for (const key of ['a', 'b', 'c']) store.set(key, key, 0, 1);
      store.get('a');
      store.get('a');
      store.get('c');
      store.set('d', 'D', 0, 1); // b was never read
      expect(removals).toEqual([['b', 'capacity']]);
      store.set('e', 'E', 0, 1); // d is the newest, but the least used
      expect(removals).toEqual([
        ['b', 'capacity'],
        ['d', 'capacity'],
      ]);
      expect(['a', 'c', 'e'].every((k) => store.has(k))).toBe(true);
      expect(store.stats()).toMatchObject({ entries: 3, evictions: 2 });
    });

    it('holds one entry when maxEntries is 1', () => {
      const store = backend({ maxEntries: 1 });
      store.set('a', 'A', 0, 1);
      store.set('b', 'B', 0, 1);
      expect(store.mget(['a', 'b'])).toEqual([undefined, 'B']);
      expect(removals).toEqual([['a', 'capacity']]);
    });

    it('grows past its initial capacity of 1024 slots up to maxEntries 5000, keeping every entry', () => {
      const store = backend({ maxEntries: 5000 });
      for (let i = 0; i < 10; i++) store.set(`key-${i}`, i, 1_000, 1); // TTLs set before the first growth
      for (let i = 10; i < 5000; i++) store.set(`key-${i}`, i, 0, 1);
      let bytes = 0;
      for (let i = 0; i < 5000; i++) bytes += 1 + overhead(`key-${i}`, { ttlMs: i < 10 ? 1_000 : 0 });
      expect(store.stats()).toEqual({ entries: 5000, bytes, evictions: 0, expirations: 0 });
      for (let i = 0; i < 5000; i++) {
        if (store.get(`key-${i}`) !== i) throw new Error(`key-${i} lost after growth`);
      }
      expect(removals).toEqual([]);

      clock += 1_000; // the TTLs survived the copies into larger arrays (expiry is lazy: read them)
      expect(store.mget(Array.from({ length: 11 }, (_, i) => `key-${i}`))).toEqual([...Array(10).fill(undefined), 10]);
      expect(store.stats()).toMatchObject({ entries: 4990, expirations: 10 });
    });

    it('evicts at maxEntries after growing, in LRU order', () => {
      const store = backend({ maxEntries: 5000 });
      for (let i = 0; i < 5000; i++) store.set(`key-${i}`, i, 0, 1);
      store.get('key-0');
      store.set('one-more', 'x', 0, 1);
      store.set('two-more', 'y', 0, 1);
      expect(removals).toEqual([
        ['key-1', 'capacity'],
        ['key-2', 'capacity'],
      ]);
      expect(store.stats()).toMatchObject({ entries: 5000, evictions: 2 });
    });
  });

  describe('byte bound', () => {
    it('evicts the oldest entry to make room', () => {
      const store = backend({ maxBytes: 2 * O + 100 });
      store.set('a', 'A', 0, 40);
      store.set('b', 'B', 0, 40);
      store.set('c', 'C', 0, 40);
      expect(removals).toEqual([['a', 'capacity']]);
      expect(store.mget(['a', 'b', 'c'])).toEqual([undefined, 'B', 'C']);
      expect(store.stats()).toEqual({ entries: 2, bytes: 2 * O + 80, evictions: 1, expirations: 0 });
    });

    it('evicts as many entries as needed', () => {
      const big = overhead('big');
      const store = backend({ maxBytes: 4 * O + 100 });
      for (const key of ['a', 'b', 'c', 'd']) store.set(key, key, 0, 25);
      store.set('big', 'B', 0, 3 * O + 70 - big);
      expect(removals.map(([key]) => key)).toEqual(['a', 'b', 'c']);
      expect(store.stats()).toMatchObject({ entries: 2, bytes: 4 * O + 95 });
    });

    it('accepts an entry of exactly maxBytes, evicting everything else', () => {
      const store = backend({ maxBytes: O + 100 });
      store.set('a', 'A', 0, 1);
      store.set('b', 'B', 0, 100);
      expect(store.get('b')).toBe('B');
      expect(store.stats()).toMatchObject({ entries: 1, bytes: O + 100 });
    });

    it('throws ValueTooLargeError for an entry over maxBytes and leaves the store unchanged', () => {
      const maxBytes = 2 * O + 100;
      const store = backend({ maxBytes });
      store.set('a', 'A', 0, 60);
      store.set('b', 'B', 0, 30);
      const before = store.stats();

      const error = tooLarge(() => store.set('c', 'C', 0, maxBytes - O + 1));
      expect(error).toMatchObject({ namespace: 'things', sizeBytes: maxBytes + 1, limitBytes: maxBytes, limitName: 'maxBytes' });
      expect(store.stats()).toEqual(before);
      expect(store.mget(['a', 'b', 'c'])).toEqual(['A', 'B', undefined]);
      expect(removals).toEqual([]);
    });

    it('keeps the old value when an overwrite is over maxBytes', () => {
      const store = backend({ maxBytes: O + 100 });
      store.set('a', 'old', 0, 60);
      tooLarge(() => store.set('a', 'new', 0, 101));
      expect(store.get('a')).toBe('old');
      expect(store.stats()).toMatchObject({ entries: 1, bytes: O + 60 });
    });

    it('evicts other entries when an overwrite grows past maxBytes', () => {
      const store = backend({ maxBytes: 2 * O + 100 });
      store.set('a', 'A', 0, 40);
      store.set('b', 'B', 0, 40);
      store.set('a', 'A2', 0, O + 70); // the overwrite counts as a use of a, so b is the LRU victim
      expect(removals).toEqual([['b', 'capacity']]);
      expect(store.get('a')).toBe('A2');
      expect(store.stats()).toMatchObject({ entries: 1, bytes: 2 * O + 70 });
    });

    it.each([
      ['LRU', (): EvictionStrategy => new LruStrategy()],
      ['LFU', (): EvictionStrategy => new LfuStrategy()],
    ])('never exceeds maxBytes and keeps exact byte accounting over random sets, overwrites and deletes (%s)', (_name, strategy) => {
      const random = mulberry32(0xb17e5);
      const entry = overhead('k10', { strategy: strategy() }); // keys 'k0'…'k79' hold the same bytes
      const maxBytes = 1_000 + 10 * entry;
      const store = backend({ maxEntries: 40, maxBytes, strategy: strategy() });
      const sizeOf = new Map<string, number>();
      const keys = Array.from({ length: 80 }, (_, i) => `k${i}`);
      let overwrites = 0;

      for (let op = 0; op < 5_000; op++) {
        const key = keys[Math.floor(random() * keys.length)];
        const roll = random();
        if (roll < 0.7) {
          // Mostly small, sometimes up to the whole budget.
          const size = roll < 0.05 ? maxBytes - entry : Math.floor(random() ** 2 * (maxBytes - entry));
          if (store.has(key)) overwrites++;
          store.set(key, op, 0, size);
          sizeOf.set(key, entry + size);
        } else if (roll < 0.85) {
          store.delete(key);
        } else {
          store.get(key);
        }

        const present = keys.filter((k) => store.has(k));
        const expectedBytes = present.reduce((sum, k) => sum + sizeOf.get(k)!, 0);
        const { bytes, entries } = store.stats();
        if (bytes! > maxBytes) throw new Error(`op ${op}: ${bytes} bytes stored, over maxBytes ${maxBytes}`);
        if (bytes !== expectedBytes) throw new Error(`op ${op}: stats say ${bytes} bytes, the entries hold ${expectedBytes}`);
        if (entries !== present.length) throw new Error(`op ${op}: stats say ${entries} entries, ${present.length} are present`);
      }
      expect(overwrites).toBeGreaterThan(100);
      expect(store.stats().evictions).toBeGreaterThan(100);
      expect(removals.every(([, reason]) => reason === 'capacity')).toBe(true);
    });

    it('rejects a size it cannot account for exactly (negative, fractional or 4 GiB and over), storing nothing', () => {
      const store = backend();
      for (const size of [2 ** 32 + 10, 1.5, -1, NaN]) {
        expect(() => store.set('huge', 'H', 0, size)).toThrow(InvalidArgumentError);
        expect(() => store.mset([{ key: 'ok', value: 1, ttlMs: 0, sizeBytes: 1 }, { key: 'huge', value: 'H', ttlMs: 0, sizeBytes: size }])).toThrow(InvalidArgumentError);
      }
      expect(store.stats()).toMatchObject({ entries: 0, bytes: 0 });
      const entry = overhead('max');
      expect(() => store.set('max', 'M', 0, 2 ** 32 - entry)).toThrow(InvalidArgumentError); // with its key, over 2^32-1
      expect(store.stats()).toMatchObject({ entries: 0, bytes: 0 });
      store.set('max', 'M', 0, 2 ** 32 - 1 - entry);
      expect(store.stats().bytes).toBe(2 ** 32 - 1);
      store.delete('max');
      expect(store.stats().bytes).toBe(0);
    });
  });

  describe('what an entry counts against maxBytes', () => {
    it('counts its key: one byte per character, two when the key holds a character above U+00FF', () => {
      expect(overhead('k'.repeat(1001)) - overhead('k')).toBe(1000);
      expect(overhead('я'.repeat(1001)) - overhead('я')).toBe(2000);
      expect(overhead('é'.repeat(1001)) - overhead('é')).toBe(1000); // Latin-1: still one byte
    });

    it('counts a fixed structure per entry, more with a TTL and with a strategy that keeps more per slot', () => {
      expect(O).toBeGreaterThanOrEqual(48 + 24); // a Map entry and three slots, and the key's string
      expect(overhead('a', { ttlMs: 1 })).toBeGreaterThan(O);
      expect(overhead('a', { strategy: new LfuStrategy() })).toBeGreaterThan(O);
    });

    it('counts tags: each tag of an entry, and each distinct tag once in the index until its last entry goes', () => {
      const store = backend();
      store.set('a', 1, 0, 0, ['t'.repeat(500), 'shared']);
      const first = store.stats().bytes!;
      expect(first).toBeGreaterThan(O + 500);
      store.set('b', 1, 0, 0, ['shared']);
      const second = store.stats().bytes! - first;
      expect(second).toBeGreaterThan(O); // b's tag, without a new index entry...
      store.set('c', 1, 0, 0, ['new']);
      expect(store.stats().bytes! - first - second).toBeGreaterThan(second); // ...c's needed one
      store.delete('a');
      store.invalidateTag('new');
      store.delete('b');
      expect(store.stats()).toMatchObject({ entries: 0, bytes: 0 });
    });

    it('keeps exact accounting, down to 0, over random tagged writes, overwrites, evictions and invalidations', () => {
      const random = mulberry32(0x7a65);
      const store = backend({ maxEntries: 30, maxBytes: 12_000 });
      const tags = Array.from({ length: 12 }, (_, i) => `tag-${i}`);
      for (let op = 0; op < 3_000; op++) {
        const key = `key-${Math.floor(random() * 60)}`;
        const roll = random();
        if (roll < 0.6) {
          const entryTags = tags.filter(() => random() < 0.2);
          store.set(key, op, 0, Math.floor(random() * 300), entryTags);
        } else if (roll < 0.8) {
          store.delete(key);
        } else if (roll < 0.95) {
          store.invalidateTag(tags[Math.floor(random() * tags.length)]);
        } else {
          store.clear();
        }
        const bytes = store.stats().bytes!;
        if (bytes > 12_000) throw new Error(`op ${op}: ${bytes} bytes, over maxBytes`);
        if (store.stats().entries === 0 && bytes !== 0) throw new Error(`op ${op}: empty, yet ${bytes} bytes`);
      }
      store.clear();
      expect(store.stats()).toMatchObject({ entries: 0, bytes: 0 });
    });

    it('bounds the entries by their keys too: 1,000-character keys with tiny values fill maxBytes', () => {
      const store = backend({ maxEntries: 100_000, maxBytes: 100_000 });
      for (let i = 0; i < 1_000; i++) store.set(`${i}:`.padEnd(1_000, 'k'), i, 0, 8);
      const { entries, bytes, evictions } = store.stats();
      expect(bytes).toBeLessThanOrEqual(100_000);
      expect(entries).toBeLessThan(100); // each holds over 1,000 bytes
      expect(evictions).toBe(1_000 - entries!);
    });
  });

  describe('room-making prefers expired entries and protects the entry being written', () => {
    it('drops expired entries before evicting a live one', () => {
      const store = backend({ maxEntries: 3 });
      store.set('live', 'L', 0, 1);
      store.set('tmp1', 'T', 10, 1);
      store.set('tmp2', 'T', 10, 1);
      clock += 1_000;
      store.set('new', 'N', 0, 1);
      expect(store.get('live')).toBe('L');
      expect(store.get('new')).toBe('N');
      expect(store.stats()).toMatchObject({ entries: 2, evictions: 0, expirations: 2 });
    });

    it('frees bytes held by expired entries before evicting live ones', () => {
      const live = overhead('live');
      const tmp = overhead('tmp0', { ttlMs: 10 });
      const store = backend({ maxEntries: 100, maxBytes: live + 6 * tmp + 100 }); // full after these writes
      store.set('live', 'L', 0, 40);
      for (let i = 0; i < 6; i++) store.set(`tmp${i}`, 'T', 10, 10);
      clock += 1_000;
      store.set('new', 'N', 0, 50);
      expect(store.get('live')).toBe('L');
      expect(store.stats()).toMatchObject({ bytes: live + overhead('new') + 90, evictions: 0 });
    });

    it('never evicts the entry being overwritten to make room for its own growth (LFU)', () => {
      const entry = overhead('b', { strategy: new LfuStrategy() });
      const store = backend({ maxBytes: overhead('hot', { strategy: new LfuStrategy() }) + entry + 100, strategy: new LfuStrategy() });
      store.set('hot', 'H', 0, 40);
      for (let i = 0; i < 5; i++) store.get('hot');
      store.set('b', 'small', 0, 40);
      store.set('b', 'bigger', 0, 70);
      expect(store.get('b')).toBe('bigger');
      expect(store.get('hot')).toBeUndefined();
      expect(store.stats().bytes).toBe(entry + 70);
    });

    it('stops with a clear error when a custom strategy names an empty slot', () => {
      const broken: EvictionStrategy = {
        name: 'broken', resize: () => undefined, insert: () => undefined, access: () => undefined,
        remove: () => undefined, victim: () => 7,
      };
      const store = backend({ maxEntries: 2, strategy: broken });
      store.set('a', 1, 0, 1);
      store.set('b', 2, 0, 1);
      expect(() => store.set('c', 3, 0, 1)).toThrow('Eviction strategy "broken" named slot 7, which holds no entry');
    });
  });

  describe('tags', () => {
    it('follows an entry\'s current tags, and forgets the tags of entries that are gone', () => {
      const store = backend({ maxEntries: 2 });
      store.set('a', 'A', 0, 1, ['x']);
      store.set('a', 'A2', 0, 1, ['y']);
      expect(store.invalidateTag('x')).toBe(0);
      expect(store.get('a')).toBe('A2');
      store.set('b', 'B', 0, 1, ['y']);
      store.set('c', 'C', 0, 1, ['y']); // evicts 'a'
      store.delete('b');
      expect(store.invalidateTag('y')).toBe(1);
      expect(store.stats().entries).toBe(0);
    });

    it('does not count an expired entry it removes by tag', () => {
      const store = backend();
      store.set('old', 'O', 10, 1, ['t']);
      store.set('new', 'N', 0, 1, ['t']);
      clock += 100;
      expect(store.invalidateTag('t')).toBe(1);
    });
  });

  describe('mset', () => {
    it('writes every entry with its own TTL and size', () => {
      const store = backend();
      store.mset([
        { key: 'a', value: 'A', ttlMs: 0, sizeBytes: 10 },
        { key: 'b', value: 'B', ttlMs: 100, sizeBytes: 20 },
      ]);
      expect(store.mget(['a', 'b'])).toEqual(['A', 'B']);
      expect(store.stats()).toMatchObject({ entries: 2, bytes: overhead('a') + overhead('b', { ttlMs: 100 }) + 30 });
      clock += 100;
      expect(store.mget(['a', 'b'])).toEqual(['A', undefined]);
    });

    it('writes nothing when one entry is over maxBytes', () => {
      const store = backend({ maxBytes: overhead('huge') + 100 });
      store.set('existing', 'old', 0, 50);
      const before = store.stats();

      const error = tooLarge(() =>
        store.mset([
          { key: 'a', value: 'A', ttlMs: 0, sizeBytes: 10 },
          { key: 'existing', value: 'new', ttlMs: 0, sizeBytes: 10 },
          { key: 'huge', value: 'H', ttlMs: 0, sizeBytes: 101 },
          { key: 'b', value: 'B', ttlMs: 0, sizeBytes: 10 },
        ]),
      );
      expect(error.sizeBytes).toBe(overhead('huge') + 101);
      expect(store.mget(['a', 'existing', 'huge', 'b'])).toEqual([undefined, 'old', undefined, undefined]);
      expect(store.stats()).toEqual(before);
      expect(removals).toEqual([]);
    });
  });
});
