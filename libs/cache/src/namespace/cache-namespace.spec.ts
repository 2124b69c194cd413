import { MapBackendFactory } from '../../test/map-backend.fixture';
import { CacheBackend } from '../backends/cache-backend.interface';
import { MemoryBackend } from '../backends/memory/memory-backend';
import { BackendUnavailableError } from '../errors/backend-unavailable.error';
import { InvalidKeyError } from '../errors/invalid-key.error';
import { InvalidTtlError } from '../errors/invalid-ttl.error';
import { InvalidValueError } from '../errors/invalid-value.error';
import { TagsUnsupportedError } from '../errors/tags-unsupported.error';
import { ValueTooLargeError } from '../errors/value-too-large.error';
import { NamespaceOptions } from '../options/cache-module-options.interface';
import { resolveCacheOptions } from '../options/resolve-cache-options';
import { CacheNamespace } from './cache-namespace';

function optionsFor(settings: NamespaceOptions = {}) {
  return resolveCacheOptions({ namespaces: { users: settings } }).namespaces.get('users')!;
}

interface Subject {
  cache: CacheNamespace<any>;
  backend: CacheBackend;
}

const kinds: [string, (settings?: NamespaceOptions, now?: () => number) => Subject][] = [
  ['memory (live values)', (settings = {}, now) => {
    const options = optionsFor(settings);
    const backend = new MemoryBackend({ maxEntries: options.maxEntries, now });
    return { cache: new CacheNamespace(options, backend), backend };
  }],
  ['custom byte-storing backend (serialized values)', (settings = {}) => {
    const options = optionsFor(settings);
    const backend = new MapBackendFactory().create({ namespace: 'users', keyPrefix: options.keyPrefix, maxEntries: 10, maxBytes: 0, eviction: options.eviction });
    return { cache: new CacheNamespace(options, backend), backend };
  }],
];

describe.each(kinds)('CacheNamespace on %s', (_kind, make) => {
  it('tells a miss (undefined) from a stored null, false or 0', async () => {
    const { cache } = make();
    expect(await cache.get('nobody')).toBeUndefined();
    await cache.set('null', null);
    await cache.set('false', false);
    await cache.set('zero', 0);
    expect(await cache.get('null')).toBeNull();
    expect(await cache.get('false')).toBe(false);
    expect(await cache.get('zero')).toBe(0);
    expect(await cache.has('null')).toBe(true);
    expect(await cache.has('nobody')).toBe(false);
  });

  it('stores the seed example and invalidates it', async () => {
    const { cache } = make();
    const profile = { topTracks: [{ id: 't1', title: 'Blue', plays: 12n, lastPlayed: new Date(1_700_000_000_000) }] };
    await cache.set('spotify:user:123', profile, { ttl: '1h' });
    expect(await cache.get('spotify:user:123')).toEqual(profile);
    expect(await cache.invalidate('spotify:user:123')).toBe(true);
    expect(await cache.get('spotify:user:123')).toBeUndefined();
    expect(await cache.invalidate('spotify:user:123')).toBe(false);
  });

  it.each([
    ['undefined', undefined, 'value is undefined (store null to cache an absence)'],
    ['a function', { play: () => 1 }, 'value.play is a function'],
    ['a symbol', [1, Symbol('x')], 'value[1] is a symbol'],
    ['a promise', Promise.resolve(1), 'value is a promise'],
  ])('rejects %s at set and keeps the previous value', async (_name, value, message) => {
    const { cache } = make();
    await cache.set('k', 'previous');
    const attempt = cache.set('k', value);
    await expect(attempt).rejects.toThrow(InvalidValueError);
    await expect(cache.set('k', value)).rejects.toThrow(message);
    expect(await cache.get('k')).toBe('previous');
  });

  it('rejects a circular value with the path of the cycle', async () => {
    const { cache } = make();
    const user: Record<string, unknown> = { name: 'Ada' };
    user.friends = [user];
    await expect(cache.set('k', user)).rejects.toThrow('value.friends[0] is a circular reference');
    expect(await cache.has('k')).toBe(false);
  });

  it.each([
    ['empty', ''],
    ['not a string', 42],
    ['too long', 'x'.repeat(1025)],
    ['with a newline', 'user:1\nFLUSHALL'],
  ])('rejects a key that is %s on every operation', async (_name, key) => {
    const { cache } = make();
    const k = key as string;
    const calls: Promise<unknown>[] = [
      cache.get(k), cache.set(k, 1), cache.has(k), cache.invalidate(k), cache.getOrSet(k, () => 1),
      cache.mget(['ok', k]), cache.mset([{ key: 'ok', value: 1 }, { key: k, value: 1 }]),
    ];
    for (const call of calls) await expect(call).rejects.toThrow(InvalidKeyError);
    // The batch with one bad key wrote nothing.
    expect(await cache.get('ok')).toBeUndefined();
  });

  it('rejects bad TTLs and accepts milliseconds and duration strings', async () => {
    const { cache } = make();
    await expect(cache.set('k', 1, { ttl: -1 })).rejects.toThrow(InvalidTtlError);
    await expect(cache.set('k', 1, { ttl: '1 hour' })).rejects.toThrow(/namespace "users" set\(\) options\.ttl/);
    await expect(cache.getOrSet('k', () => 1, { ttl: 1.5 })).rejects.toThrow(InvalidTtlError);
    await expect(cache.mset([{ key: 'k', value: 1, ttl: 'x' }])).rejects.toThrow(/entries\[0\]\.ttl/);
    await cache.set('a', 1, { ttl: 5_000 });
    await cache.set('b', 2, { ttl: '1h30m' });
    expect(await cache.mget(['a', 'b'])).toEqual([1, 2]);
  });

  it('rejects a value over maxValueBytes and stores nothing', async () => {
    const { cache } = make({ maxValueBytes: 1_000 });
    await expect(cache.set('big', 'x'.repeat(2_000))).rejects.toThrow(ValueTooLargeError);
    await expect(cache.set('big', 'x'.repeat(2_000))).rejects.toThrow(/limit 1000 bytes \(maxValueBytes\)/);
    expect(await cache.has('big')).toBe(false);
    await cache.set('small', 'x'.repeat(100));
    expect(await cache.get('small')).toHaveLength(100);
  });

  it('mset writes all entries, or none when one value is bad', async () => {
    const { cache } = make();
    await expect(cache.mset<unknown>([{ key: 'a', value: 1 }, { key: 'b', value: () => 2 }])).rejects.toThrow('entries[1].value is a function');
    expect(await cache.mget(['a', 'b'])).toEqual([undefined, undefined]);
    await cache.mset<unknown>([{ key: 'a', value: 1 }, { key: 'b', value: { n: 2 } }]);
    expect(await cache.mget(['a', 'b', 'c'])).toEqual([1, { n: 2 }, undefined]);
  });

  it('getOrSet runs the loader once for concurrent misses and caches the result', async () => {
    const { cache } = make();
    let calls = 0;
    const loader = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 20));
      return { id: calls };
    };
    const results = await Promise.all(Array.from({ length: 20 }, () => cache.getOrSet('k', loader)));
    expect(calls).toBe(1);
    expect(results.every((r) => r.id === 1)).toBe(true);
    expect(await cache.getOrSet('k', loader)).toEqual({ id: 1 });
    expect(calls).toBe(1);
  });

  it('getOrSet does not cache a loader error; every waiting caller gets it; the next call retries', async () => {
    const { cache } = make();
    let calls = 0;
    const failing = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 10));
      throw new Error('catalog down');
    };
    const outcomes = await Promise.allSettled([cache.getOrSet('k', failing), cache.getOrSet('k', failing)]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    expect(calls).toBe(1);
    expect(await cache.has('k')).toBe(false);
    expect(await cache.getOrSet('k', () => 'ok')).toBe('ok');
  });

  it('getOrSet with a loader that throws synchronously does not leave a stuck flight', async () => {
    const { cache } = make();
    await expect(cache.getOrSet('k', () => { throw new Error('sync'); })).rejects.toThrow('sync');
    expect(await cache.getOrSet('k', () => 'second')).toBe('second');
  });

  it('getOrSet returns but does not cache undefined, and returns an over-limit value uncached', async () => {
    const { cache } = make({ maxValueBytes: 100 });
    expect(await cache.getOrSet('u', () => undefined)).toBeUndefined();
    expect(await cache.has('u')).toBe(false);
    const big = 'y'.repeat(500);
    expect(await cache.getOrSet('big', () => big)).toBe(big);
    expect(await cache.has('big')).toBe(false);
  });

  it('getOrSet rejects a loader value that cannot be cached at all', async () => {
    const { cache } = make();
    await expect(cache.getOrSet('k', () => ({ cb: () => 1 }))).rejects.toThrow(InvalidValueError);
  });

  it.each([
    ['invalidated', (cache: CacheNamespace<any>) => cache.invalidate('k')],
    ['overwritten', (cache: CacheNamespace<any>) => cache.set('k', 'written meanwhile')],
    ['bulk-written', (cache: CacheNamespace<any>) => cache.mset([{ key: 'k', value: 'written meanwhile' }])],
    ['cleared', (cache: CacheNamespace<any>) => cache.clear()],
  ])('getOrSet does not store a load that was superseded (key %s while the loader ran)', async (_what, interfere) => {
    const { cache } = make();
    let release!: () => void;
    const slowLoad = cache.getOrSet('k', () => new Promise<string>((resolve) => { release = () => resolve('stale'); }));
    await new Promise((r) => setTimeout(r, 5));
    await interfere(cache);
    // A caller arriving now starts a fresh load instead of joining the superseded one.
    const fresh = cache.getOrSet('k', () => 'fresh');
    release();
    expect(await slowLoad).toBe('stale');
    const now = await cache.get('k');
    expect(now).not.toBe('stale');
    expect(['fresh', 'written meanwhile']).toContain(await fresh);
  });

  it('invalidates by tag where the backend supports tags, and says so where it does not', async () => {
    const { cache, backend } = make();
    if (backend.invalidateTag === undefined) {
      await expect(cache.set('k', 1, { tags: ['a'] })).rejects.toThrow(TagsUnsupportedError);
      await expect(cache.invalidateTag('a')).rejects.toThrow('does not support tags');
      expect(await cache.has('k')).toBe(false);
      return;
    }
    await cache.set('a', 1, { tags: ['artist:1'] });
    await cache.getOrSet('b', () => 2, { tags: ['artist:1'] });
    await cache.mset([{ key: 'c', value: 3, tags: ['artist:2'] }]);
    expect(await cache.invalidateTag('artist:1')).toBe(2);
    expect(await cache.mget(['a', 'b', 'c'])).toEqual([undefined, undefined, 3]);
  });

  it('rejects bad tags before writing anything', async () => {
    const { cache } = make();
    await expect(cache.set('k', 1, { tags: ['ok', ''] })).rejects.toThrow('Invalid cache tag in namespace "users": the tag is empty');
    await expect(cache.set('k', 1, { tags: 'artist' as unknown as string[] })).rejects.toThrow(InvalidKeyError);
    await expect(cache.mset([{ key: 'k', value: 1, tags: ['x\n'] }])).rejects.toThrow('the tag holds the control character U+000a');
    expect(await cache.has('k')).toBe(false);
  });

  it('counts hits and misses', async () => {
    const { cache } = make();
    await cache.set('a', 1);
    await cache.get('a');
    await cache.get('a');
    await cache.get('b');
    expect(cache.stats()).toMatchObject({ namespace: 'users', hits: 2, misses: 1, sets: 1, hitRatio: 2 / 3 });
  });

  it('clear removes everything and reports how many', async () => {
    const { cache } = make();
    await cache.mset([{ key: 'a', value: 1 }, { key: 'b', value: 2 }]);
    expect(await cache.clear()).toBe(2);
    expect(await cache.mget(['a', 'b'])).toEqual([undefined, undefined]);
  });
});

describe('CacheNamespace specifics', () => {
  it('turns a synchronous backend throwing on the hot path into a rejected promise and a counted error', async () => {
    const options = optionsFor();
    const backend = new MemoryBackend({ maxEntries: 10 });
    backend.get = () => {
      throw new Error('store offline');
    };
    const cache = new CacheNamespace(options, backend);
    let result: Promise<unknown> | undefined;
    expect(() => { result = cache.get('k'); }).not.toThrow();
    await expect(result).rejects.toThrow(BackendUnavailableError);
    expect(cache.stats().errors).toBe(1);
    expect(await cache.getOrSet('k', () => 'loaded')).toBe('loaded');
  });

  it('applies the namespace default TTL', async () => {
    let now = 1_000;
    const options = optionsFor({ ttl: '1m' });
    const cache = new CacheNamespace(options, new MemoryBackend({ maxEntries: 10, now: () => now }));
    await cache.set('k', 'v');
    await cache.set('pinned', 'v', { ttl: 0 });
    now += 59_999;
    expect(await cache.get('k')).toBe('v');
    now += 1;
    expect(await cache.get('k')).toBeUndefined();
    expect(await cache.get('pinned')).toBe('v');
  });

  it('returns the very object stored in memory (no copy on the hit path)', async () => {
    const options = optionsFor();
    const cache = new CacheNamespace(options, new MemoryBackend({ maxEntries: 10 }));
    const value = { a: 1 };
    await cache.set('k', value);
    expect(await cache.get('k')).toBe(value);
  });

  it('treats an unreadable stored entry as a miss, deletes it and counts it', async () => {
    const options = optionsFor();
    const factory = new MapBackendFactory();
    const backend = factory.create({ namespace: 'users', keyPrefix: options.keyPrefix, maxEntries: 10, maxBytes: 0, eviction: options.eviction });
    const cache = new CacheNamespace(options, backend);
    await backend.set('k', '{"$t":"Nope"}', 0, 13);
    await backend.set('j', 'not json', 0, 8);
    expect(await cache.get('k')).toBeUndefined();
    expect(await cache.mget(['j'])).toEqual([undefined]);
    expect(factory.store.size).toBe(0);
    expect(cache.stats().unreadableDropped).toBe(2);
  });

  it('wraps a custom backend failure in BackendUnavailableError naming backend, namespace and operation', async () => {
    const broken: CacheBackend = {
      name: 'flaky', storesLiveValues: false,
      get: async () => { throw new Error('socket hang up'); },
      set: async () => { throw new Error('socket hang up'); },
      delete: async () => false, has: async () => false, mget: async () => [], mset: async () => undefined, clear: async () => 0,
    };
    const cache = new CacheNamespace(optionsFor(), broken);
    const failure = cache.get('k');
    await expect(failure).rejects.toThrow(BackendUnavailableError);
    await expect(cache.get('k')).rejects.toThrow('Cache backend "flaky" failed during get in namespace "users": socket hang up');
    // getOrSet still answers, from the loader.
    expect(await cache.getOrSet('k', () => 'fresh')).toBe('fresh');
    expect(cache.stats().errors).toBeGreaterThanOrEqual(3);
  });
});
