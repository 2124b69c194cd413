import { InvalidArgumentError } from '../../errors/invalid-argument.error';
import { MiniatureCaches } from './miniature-caches';
import { hashKey } from './hash-key';
import { mulberry32 } from '../../../test/seeded-random';

/** Reference LRU over key hashes: a Map in recency order. */
class ReferenceLru {
  private readonly order = new Map<number, true>();
  constructor(public capacity: number) {}
  access(hash: number): boolean {
    const hit = this.order.delete(hash);
    this.order.set(hash, true);
    while (this.order.size > this.capacity) this.order.delete(this.order.keys().next().value!);
    return hit;
  }
}

const hashes = (n: number, tag = 'k'): number[] => Array.from({ length: n }, (_, i) => hashKey(`${tag}-${i}`));

describe('MiniatureCaches', () => {
  it('with a 100% window is LRU, access for access, through growth and a shrink', () => {
    const random = mulberry32(0x11f0);
    const keys = hashes(600);
    const caches = new MiniatureCaches([1]);
    const reference = new ReferenceLru(50);
    caches.resize(50);
    for (let op = 0; op < 30_000; op++) {
      if (op === 10_000) caches.resize((reference.capacity = 200));
      if (op === 20_000) caches.resize((reference.capacity = 120));
      const key = keys[Math.floor(random() ** 2 * keys.length)];
      const missed = caches.access(key);
      if ((missed === 0) !== reference.access(key)) throw new Error(`op ${op}: hit/miss differs from LRU`);
    }
    expect(caches.entries(0)).toBe(120);
  });

  it('keeps each cache independent although they share one key table', () => {
    // The LRU cache must behave exactly as alone while a W-TinyLFU cache holds other keys.
    const random = mulberry32(0x5ea);
    const keys = hashes(400);
    const caches = new MiniatureCaches([0.01, 1, 0.316]);
    const reference = new ReferenceLru(64);
    caches.resize(64);
    let differentFromLru = 0;
    for (let op = 0; op < 20_000; op++) {
      const key = keys[Math.floor(random() ** 3 * keys.length)];
      const missed = caches.access(key);
      if (((missed >>> 1) & 1) === 0 !== reference.access(key)) throw new Error(`op ${op}: the LRU cache differs from LRU`);
      if ((missed & 1) !== ((missed >>> 1) & 1)) differentFromLru++;
      for (let cache = 0; cache < 3; cache++) if (caches.entries(cache) > 64) throw new Error(`op ${op}: cache ${cache} holds ${caches.entries(cache)}`);
    }
    expect(differentFromLru).toBeGreaterThan(1_000); // the W-TinyLFU cache did hold other keys
  });

  it('keeps a popular working set through a scan with a small window, as W-TinyLFU does', () => {
    const hot = hashes(40, 'hot');
    const caches = new MiniatureCaches([0.01, 1]);
    caches.resize(100);
    for (let round = 0; round < 20; round++) for (const key of hot) caches.access(key);
    for (const key of hashes(5_000, 'scan')) caches.access(key);
    let tinyLfuHits = 0;
    let lruHits = 0;
    for (const key of hot) {
      const missed = caches.access(key);
      if ((missed & 1) === 0) tinyLfuHits++;
      if ((missed & 2) === 0) lruHits++;
    }
    expect(lruHits).toBe(0);
    expect(tinyLfuHits).toBeGreaterThanOrEqual(35);
  });

  it('drops the keys `retain` rejects and reuses their room', () => {
    const keys = hashes(100);
    const caches = new MiniatureCaches([0.1, 1]);
    caches.resize(100);
    for (const key of keys) caches.access(key);
    caches.retain((hash) => keys.indexOf(hash) % 2 === 0);
    expect([caches.entries(0), caches.entries(1)]).toEqual([50, 50]);
    expect(keys.filter((key, i) => i % 2 === 0 && caches.access(key) === 0)).toHaveLength(50);
    expect(keys.filter((key, i) => i % 2 === 1 && caches.access(key) === 0b11)).toHaveLength(50);
    expect([caches.entries(0), caches.entries(1)]).toEqual([100, 100]);
  });

  it('rejects more caches than its miss bits can report', () => {
    expect(() => new MiniatureCaches([])).toThrow(InvalidArgumentError);
    expect(() => new MiniatureCaches(new Array(32).fill(0.5))).toThrow(InvalidArgumentError);
  });
});
