import { FrequencySketch } from './frequency-sketch';
import { hashKey } from './hash-key';

describe('FrequencySketch', () => {
  const sketch = (capacity: number): FrequencySketch => {
    const s = new FrequencySketch();
    s.ensureCapacity(capacity);
    return s;
  };

  it('never under-estimates a count below 15 (count-min), and caps at 15', () => {
    const s = sketch(1_000);
    const truth = new Map<number, number>();
    for (let i = 0; i < 5_000; i++) {
      const hash = hashKey(`k${i % 700}`);
      s.add(hash, 1);
      truth.set(hash, (truth.get(hash) ?? 0) + 1);
    }
    let exact = 0;
    for (const [hash, count] of truth) {
      expect(s.frequency(hash)).toBeGreaterThanOrEqual(Math.min(15, count));
      if (s.frequency(hash) === Math.min(15, count)) exact++;
    }
    // 16 counters per entry keep collisions rare.
    expect(exact / truth.size).toBeGreaterThan(0.9);
    expect(s.frequency(hashKey('never seen'))).toBeLessThanOrEqual(1);
  });

  it('adds several accesses at once, saturating at 15', () => {
    const s = sketch(64);
    const key = hashKey('batched');
    s.add(key, 4);
    expect(s.frequency(key)).toBeGreaterThanOrEqual(4);
    s.add(key, 14);
    expect(s.frequency(key)).toBe(15);
  });

  it('asks for halving after 10 × capacity accesses, and halving halves every counter (aging)', () => {
    const s = sketch(16);
    const hot = hashKey('hot');
    const warm = hashKey('warm');
    s.add(hot, 15);
    s.add(warm, 5);
    let ticks = 1;
    while (!s.tick()) ticks++;
    expect(ticks).toBe(160);
    expect(s.untilReset).toBe(0);
    s.halve();
    expect(s.resets).toBe(1);
    expect(s.frequency(hot)).toBe(7);
    expect(s.frequency(warm)).toBe(2);
    expect(s.untilReset).toBe(160);
  });
});
