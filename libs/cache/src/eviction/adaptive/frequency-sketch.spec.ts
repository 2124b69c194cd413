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
      s.increment(hash);
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

  it('halves every counter after 10 × capacity additions (aging)', () => {
    const s = sketch(16);
    const hot = hashKey('hot');
    for (let i = 0; i < 15; i++) s.increment(hot);
    expect(s.frequency(hot)).toBe(15);
    expect(s.resets).toBe(0);
    let i = 0;
    while (s.resets === 0) s.increment(hashKey(`filler-${i++}`));
    expect(i + 15).toBe(160);
    expect(s.frequency(hot)).toBe(7);
  });
});
