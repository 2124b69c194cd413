import { Test, TestingModule } from '@nestjs/testing';
import { CacheModule } from '../cache.module';
import { CacheService } from '../cache.service';
import { CacheEventMap, CacheEventName } from './cache-events';

describe('cache events', () => {
  let moduleRef: TestingModule;
  let cache: CacheService;
  let seen: [CacheEventName, unknown][];
  const all: CacheEventName[] = ['set', 'invalidate', 'tagInvalidated', 'namespaceCleared', 'evicted', 'expired'];

  beforeEach(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [CacheModule.forRoot({ namespaces: { small: { maxEntries: 2 } } })],
    }).compile();
    cache = moduleRef.get(CacheService);
    seen = [];
    for (const name of all) cache.events.on(name, (e) => seen.push([name, e]));
  });
  afterEach(() => moduleRef.close());

  it('reports writes, invalidations and clears with namespace and key', async () => {
    await cache.set('a', 1, { ttl: '1m' });
    await cache.mset([{ key: 'b', value: 2 }]);
    await cache.getOrSet('c', () => 3);
    await cache.invalidate('a');
    await cache.invalidate('zzz');
    await cache.set('d', 4, { tags: ['t'] });
    await cache.invalidateTag('t');
    await cache.invalidateNamespace();
    expect(seen).toEqual([
      ['set', { namespace: 'default', key: 'a', ttlMs: 60_000 }],
      ['set', { namespace: 'default', key: 'b', ttlMs: 0 }],
      ['set', { namespace: 'default', key: 'c', ttlMs: 0 }],
      ['invalidate', { namespace: 'default', key: 'a', existed: true }],
      ['invalidate', { namespace: 'default', key: 'zzz', existed: false }],
      ['set', { namespace: 'default', key: 'd', ttlMs: 0 }],
      ['tagInvalidated', { namespace: 'default', tag: 't', removed: 1 }],
      ['namespaceCleared', { namespace: 'default', removed: 2 }],
    ] satisfies [CacheEventName, CacheEventMap[CacheEventName]][]);
  });

  it('reports evictions and expirations of the memory backend', async () => {
    const small = cache.namespace('small');
    await small.set('x', 1);
    await small.set('y', 2);
    await small.set('z', 3);
    await small.set('short', 4, { ttl: 20 });
    await new Promise((r) => setTimeout(r, 60));
    expect(await small.get('short')).toBeUndefined();
    const removals = seen.filter(([name]) => name === 'evicted' || name === 'expired');
    expect(removals).toEqual([
      ['evicted', { namespace: 'small', key: 'x' }],
      ['evicted', { namespace: 'small', key: 'y' }],
      ['expired', { namespace: 'small', key: 'short' }],
    ]);
  });

  it('keeps the operation and the other listeners going when a listener throws, and unsubscribes', async () => {
    const unsubscribe = cache.events.on('set', () => {
      throw new Error('listener bug');
    });
    await expect(cache.set('k', 1)).resolves.toBeUndefined();
    expect(seen.filter(([name]) => name === 'set')).toHaveLength(1);
    unsubscribe();
    expect(cache.events.has('set')).toBe(true);
    await cache.set('k', 2);
    expect(await cache.get('k')).toBe(2);
  });
});
