/**
 * Threat: a client who chooses cache keys (a search string, a long URL) makes a memory namespace
 * hold far more than its `maxBytes`: tiny values under 1,000-character keys, each entry counted as
 * its value only. `maxBytes` must bound what the namespace really holds (keys, tags, structure):
 * counted on the entries, and checked against the heap the process really grows by.
 */
import { Controller, Get, INestApplication, Module, Query } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { CacheModule, CacheNamespace, CacheService, InjectCache } from 'nest-cachekit';
import request from 'supertest';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Full collections on demand, without starting Jest with --expose-gc. */
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapUsed(): number {
  gc();
  gc();
  const { heapUsed: heap, arrayBuffers } = process.memoryUsage();
  return heap + arrayBuffers;
}

/** A distinct, flat 1,000-character key (as a query string or a URL is). */
function longKey(i: number): string {
  const prefix = `search:${i}:`;
  return [prefix, 'q'.repeat(1_000 - prefix.length)].join('');
}

@Controller()
class SearchController {
  constructor(@InjectCache('search') private readonly cache: CacheNamespace) {}

  @Get('search')
  search(@Query('q') q: string): Promise<{ hits: number }> {
    return this.cache.getOrSet(`search:${q}`, () => ({ hits: q.length % 7 }));
  }
}

describe('a memory namespace holds no more than maxBytes, whatever the keys', () => {
  describe('over HTTP: a client sends searches with 1,000-character query strings', () => {
    const MAX_BYTES = 256 * 1024;
    let app: INestApplication;
    let cache: CacheService;

    beforeAll(async () => {
      const moduleRef = await Test.createTestingModule({
        imports: [CacheModule.forRoot({ namespaces: { search: { backend: 'memory', maxEntries: 100_000, maxBytes: MAX_BYTES } } })],
        controllers: [SearchController],
      }).compile();
      app = moduleRef.createNestApplication({ logger: false });
      await app.init();
      cache = app.get(CacheService);
    });

    afterAll(() => app.close());

    it('keeps the namespace within maxBytes, counting the keys: entries are evicted, not piled up', async () => {
      const server = app.getHttpServer();
      const requests = 1_200;
      for (let i = 0; i < requests; i += 20) {
        await Promise.all(Array.from({ length: 20 }, (_, j) => request(server).get('/search').query({ q: `${i + j}:`.padEnd(990, 'x') }).expect(200)));
      }
      const stats = cache.namespace('search').stats();
      // Each entry holds a key of 1,000 characters: at most 262 of them fit in 256 KiB.
      expect(stats.bytes).toBeLessThanOrEqual(MAX_BYTES);
      expect(stats.entries).toBeLessThan(MAX_BYTES / 1_000);
      expect(stats.entries! + stats.evictions!).toBe(requests);
    });
  });

  describe('against the heap: what the namespace reports is what the process holds', () => {
    @Module({ imports: [CacheModule.forRoot({ namespaces: { unbounded: { backend: 'memory', maxEntries: 100_000 }, bounded: { backend: 'memory', maxEntries: 100_000, maxBytes: 16 * 1024 * 1024 } } })] })
    class HeapModule {}

    let app: Awaited<ReturnType<typeof NestFactory.createApplicationContext>>;
    let cache: CacheService;

    beforeAll(async () => {
      app = await NestFactory.createApplicationContext(HeapModule, { logger: false });
      cache = app.get(CacheService);
      // Compile the paths before the baselines.
      for (const name of ['unbounded', 'bounded']) {
        await cache.namespace(name).set(longKey(-1), 1);
        await cache.namespace(name).clear();
      }
    });

    afterAll(() => app.close());

    /**
     * What the namespace holds: the heap with it full, less the heap once `clear()` has dropped its
     * entries (both after full GCs, back to back), so that garbage left by earlier work cannot blur it.
     */
    async function held(ns: CacheNamespace, fill: () => Promise<void>): Promise<{ bytes: number; heap: number }> {
      await fill();
      const full = heapUsed();
      const { bytes } = ns.stats();
      await ns.clear();
      return { bytes: bytes!, heap: full - heapUsed() };
    }

    it('reports the bytes of 40,000 entries with 1,000-character keys within 25% of the heap they take', async () => {
      const ns = cache.namespace('unbounded');
      const { bytes, heap } = await held(ns, async () => {
        for (let i = 0; i < 40_000; i++) await ns.set(longKey(i), i % 100);
        expect(ns.stats().entries).toBe(40_000);
      });
      expect(heap).toBeGreaterThan(40_000 * 1_000); // the keys alone
      // README: within -13% … +21% of the heap on the measured shapes; a margin for what clear() keeps (slot arrays).
      expect(bytes / heap).toBeGreaterThan(0.75);
      expect(bytes / heap).toBeLessThan(1.25);
    });

    it('keeps the heap of a namespace with maxBytes 16 MiB under 16 MiB × 1.25 when 60,000 such entries are written', async () => {
      const ns = cache.namespace('bounded');
      const { bytes, heap } = await held(ns, async () => {
        for (let i = 0; i < 60_000; i++) await ns.set(longKey(i), i % 100);
        expect(ns.stats().evictions).toBeGreaterThan(0);
      });
      expect(bytes).toBeLessThanOrEqual(16 * 1024 * 1024);
      expect(heap).toBeLessThan(16 * 1024 * 1024 * 1.25);
    });
  });
});
