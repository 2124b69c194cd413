import { WindowExperts } from './window-experts';
import { hashKey } from './hash-key';
import { mulberry32 } from '../../../test/seeded-random';

/** Half the accesses to a hot set of 0.6 × size keys, half to keys never seen again. */
function* frequencyFriendly(seed: number, size: number, n: number, tag: string): Generator<number> {
  const random = mulberry32(seed);
  for (let i = 0; i < n; i++) yield hashKey(random() < 0.5 ? `${tag}-hot-${Math.floor(random() * size * 0.6)}` : `${tag}-once-${i}`);
}
/** 30% new keys, 70% re-reads of one of the last size/2 new keys. */
function* recencyFriendly(seed: number, size: number, n: number, tag: string): Generator<number> {
  const random = mulberry32(seed);
  let newest = 0;
  for (let i = 0; i < n; i++) {
    if (newest < size / 2 || random() < 0.3) yield hashKey(`${tag}-${newest++}`);
    else yield hashKey(`${tag}-${newest - 1 - Math.floor(random() * (size / 2))}`);
  }
}
function* loop(size: number, n: number, tag: string): Generator<number> {
  for (let i = 0; i < n; i++) yield hashKey(`${tag}-${i % Math.round(size * 1.5)}`);
}

function feed(experts: WindowExperts, keys: Iterable<number>): void {
  for (const hash of keys) if (experts.sampled(hash)) experts.record(hash);
}

describe('WindowExperts', () => {
  it('advises no window before it models a cache, then every share alike (their geometric mean, 10%)', () => {
    const experts = new WindowExperts();
    expect(experts.sampled(hashKey('any'))).toBe(false);
    experts.model(100);
    expect(experts.windowShare()).toBeCloseTo(0.1, 3);
    expect(experts.describe()).toBe('1%:25 4.6%:25 22%:25 100%:25');
  });

  it.each([
    ['a frequency-friendly stream', (size: number) => frequencyFriendly(1, size, 40 * size, 'f'), 0, 0.1],
    ['a loop over 1.5 × the cache', (size: number) => loop(size, 40 * size, 'l'), 0, 0.1],
    ['a recency-friendly stream', (size: number) => recencyFriendly(2, size, 40 * size, 'r'), 0.3, 1],
  ])('advises the right side on %s, simulated whole and sampled', (_, stream, low, high) => {
    for (const size of [200, 5_000]) {
      const experts = new WindowExperts();
      experts.model(size);
      feed(experts, stream(size));
      const share = experts.windowShare();
      expect({ size, inRange: share >= low && share <= high }).toEqual({ size, inRange: true });
    }
  });

  it('samples about 256 / size of the keys for a large cache, and every key of a small one', () => {
    const experts = new WindowExperts();
    experts.model(100);
    expect(experts.samplingRate).toBe(1);
    experts.model(25_600);
    expect(experts.samplingRate).toBeCloseTo(0.01, 4);
    const random = mulberry32(0x5a);
    let sampled = 0;
    for (let i = 0; i < 200_000; i++) if (experts.sampled(hashKey(`key-${Math.floor(random() * 1e9)}`))) sampled++;
    expect(sampled / 200_000).toBeGreaterThan(0.009);
    expect(sampled / 200_000).toBeLessThan(0.011);
  });

  it('needs a lead of about one miniature cache of misses to change its mind (fixed share)', () => {
    const size = 200;
    const experts = new WindowExperts();
    experts.model(size);
    feed(experts, frequencyFriendly(3, size, 40 * size, 'f'));
    const settled = experts.windowShare();
    expect(settled).toBeLessThan(0.1);
    // A short recency burst (a quarter of the cache) does not move the advice far...
    feed(experts, recencyFriendly(4, size, size / 4, 'burst'));
    expect(experts.windowShare()).toBeLessThan(2 * settled);
    // ...a recency phase does, within a few cache sizes of accesses (the lead it needs is capped).
    let accesses = 0;
    for (const hash of recencyFriendly(5, size, 20 * size, 'r')) {
      experts.record(hash);
      accesses++;
      if (experts.windowShare() > 0.3) break;
    }
    expect(accesses).toBeLessThan(6 * size);
  });

  it('follows a cache that grows without starting cold', () => {
    const experts = new WindowExperts();
    experts.model(200);
    feed(experts, recencyFriendly(6, 200, 8_000, 'r'));
    const recorded = experts.recorded;
    expect(experts.windowShare()).toBeGreaterThan(0.3);
    experts.model(2_000); // an eighth of the keys stays in the sample
    expect(experts.samplingRate).toBeCloseTo(0.128, 3);
    // The record is kept: same accesses, same side.
    expect(experts.recorded).toBe(recorded);
    expect(experts.windowShare()).toBeGreaterThan(0.3);
    feed(experts, frequencyFriendly(7, 2_000, 80_000, 'f'));
    expect(experts.windowShare()).toBeLessThan(0.1);
  });
});
