/**
 * Run by `memory-bound.spec.ts` in a Node process of its own (`--expose-gc`), so that no other test's
 * garbage or late teardown (a 60 MB planted value, a closing app) blurs the heap figures. Prints
 * `{ unbounded: { bytes, heap }, bounded: { bytes, heap } }`: what each namespace reports, and the
 * heap it really holds (the heap full, less the heap once `clear()` has dropped the entries).
 */
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CacheModule, CacheNamespace, CacheService } from 'nest-cachekit';

const gc = (globalThis as { gc?: () => void }).gc!;

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

@Module({
  imports: [CacheModule.forRoot({
    namespaces: {
      unbounded: { backend: 'memory', maxEntries: 100_000 },
      bounded: { backend: 'memory', maxEntries: 100_000, maxBytes: 16 * 1024 * 1024 },
    },
  })],
})
class HeapModule {}

async function held(ns: CacheNamespace, entries: number): Promise<{ bytes: number; heap: number; evictions: number }> {
  for (let i = 0; i < entries; i++) await ns.set(longKey(i), i % 100);
  const full = heapUsed();
  const { bytes, evictions } = ns.stats();
  await ns.clear();
  return { bytes: bytes!, heap: full - heapUsed(), evictions: evictions ?? 0 };
}

async function main(): Promise<void> {
  const app = await NestFactory.createApplicationContext(HeapModule, { logger: false });
  const cache = app.get(CacheService);
  // Compile the paths before the baselines.
  for (const name of ['unbounded', 'bounded']) {
    await cache.namespace(name).set(longKey(-1), 1);
    await cache.namespace(name).clear();
  }
  const unbounded = await held(cache.namespace('unbounded'), 40_000);
  const bounded = await held(cache.namespace('bounded'), 60_000);
  await app.close();
  process.stdout.write(JSON.stringify({ unbounded, bounded }));
}

main().catch((error: unknown) => {
  process.stderr.write(String((error as Error)?.stack ?? error));
  process.exit(1);
});
