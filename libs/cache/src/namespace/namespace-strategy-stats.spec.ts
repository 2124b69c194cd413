import { Test } from '@nestjs/testing';
import { CacheModule } from '../cache.module';
import { CacheService } from '../cache.service';

describe('NamespaceStats.strategy', () => {
  it("shows the adaptive strategy's learned state for a namespace with eviction: 'adaptive'", async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [CacheModule.forRoot({ namespaces: { recs: { eviction: 'adaptive', maxEntries: 50 }, plain: {} } })],
    }).compile();
    const recs = moduleRef.get(CacheService).namespace('recs');
    // A drifting working set (every key read again soon after it was set): a recency workload.
    for (let i = 0; i < 3_000; i++) {
      const key = `k${i % 7 === 0 ? i : Math.max(0, i - (i % 13))}`;
      if ((await recs.get(key)) === undefined) await recs.set(key, i);
    }
    const stats = recs.stats();
    expect(stats.eviction).toBe('adaptive');
    expect(stats.strategy).toMatchObject({ strategy: 'adaptive' });
    expect(stats.strategy!.windowPercent).toEqual(expect.any(Number));
    expect(stats.strategy!.windowPercent).not.toBe(1); // moved from its starting share
    expect(stats.strategy!.sketchResets).toBeGreaterThan(0);
    expect(moduleRef.get(CacheService).namespace('plain').stats().strategy).toEqual({ strategy: 'lru' });
    await moduleRef.close();
  });
});
