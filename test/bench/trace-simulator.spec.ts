// The trace simulator's own parts (bench/eviction): Belady's OPT against a brute-force optimum,
// and the trace reader on a file written here. The simulations themselves are benchmarks, not tests.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beladyHits } from '../../bench/eviction/belady-opt';
import { readTrace } from '../../bench/eviction/read-trace';
import { mulberry32 } from '../../libs/cache/test/seeded-random';

/** Most hits any policy can get: tries every choice at every miss (bypass, fill, or evict any key). */
function bruteForceHits(trace: number[], size: number): number {
  const memo = new Map<string, number>();
  const best = (t: number, cached: number[]): number => {
    if (t === trace.length) return 0;
    const memoKey = `${t}|${cached.join(',')}`;
    const known = memo.get(memoKey);
    if (known !== undefined) return known;
    const key = trace[t];
    let result: number;
    if (cached.includes(key)) result = 1 + best(t + 1, cached);
    else {
      result = best(t + 1, cached); // bypass
      if (cached.length < size) result = Math.max(result, best(t + 1, [...cached, key].sort((a, b) => a - b)));
      else {
        for (const out of cached) {
          result = Math.max(result, best(t + 1, [...cached.filter((k) => k !== out), key].sort((a, b) => a - b)));
        }
      }
    }
    memo.set(memoKey, result);
    return result;
  };
  return best(0, []);
}

/** LRU hits, to check that OPT is never below a real policy. */
function lruHits(trace: number[], size: number): number {
  const order: number[] = [];
  let hits = 0;
  for (const key of trace) {
    const at = order.indexOf(key);
    if (at >= 0) {
      hits++;
      order.splice(at, 1);
    } else if (order.length === size) order.shift();
    order.push(key);
  }
  return hits;
}

describe("Belady's OPT (bench/eviction/belady-opt.js)", () => {
  it('gets the known optimum of a textbook sequence', () => {
    // Cache of 3, keys 1 2 3 4 1 2 5 1 2 3 4 5: OPT misses 7 times (5 hits), LRU misses 10.
    const trace = [1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5];
    expect(beladyHits(trace, 3, 6)).toBe(5);
    expect(lruHits(trace, 3)).toBe(2);
  });

  it('matches a brute-force optimum on 300 random tiny traces', () => {
    const random = mulberry32(0x0b7);
    let differentFromLru = 0;
    for (let run = 0; run < 300; run++) {
      const length = 4 + Math.floor(random() * 9);
      const alphabet = 2 + Math.floor(random() * 4);
      const size = 1 + Math.floor(random() * 3);
      const trace = Array.from({ length }, () => Math.floor(random() * alphabet));
      const opt = beladyHits(trace, size, alphabet);
      expect({ trace, size, opt }).toEqual({ trace, size, opt: bruteForceHits(trace, size) });
      expect(opt).toBeGreaterThanOrEqual(lruHits(trace, size));
      if (opt > lruHits(trace, size)) differentFromLru++;
    }
    expect(differentFromLru).toBeGreaterThan(30); // the traces do tell OPT from LRU
  });

  it('gets every re-access when the cache holds all keys, and nothing from size 0', () => {
    const trace = [0, 1, 2, 0, 1, 2, 2];
    expect(beladyHits(trace, 3, 3)).toBe(4);
    expect(beladyHits(trace, 0, 3)).toBe(0);
  });
});

describe('readTrace (bench/eviction/read-trace.js)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'nest-cachekit-trace-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads one key per line as strings, 64-bit keys exact, CRLF and a trailing newline tolerated', () => {
    const file = join(dir, 'tiny.keys.gz');
    writeFileSync(file, gzipSync('18446744073709551615\r\n7\n18446744073709551614\n7\n18446744073709551615\n'));
    const { ids, keys } = readTrace(file);
    expect(keys).toEqual(['18446744073709551615', '7', '18446744073709551614']);
    expect([...ids]).toEqual([0, 1, 2, 1, 0]);
  });

  it('rejects a file without accesses', () => {
    const file = join(dir, 'empty.keys.gz');
    writeFileSync(file, gzipSync('\n'));
    expect(() => readTrace(file)).toThrow(/no accesses/);
  });
});
