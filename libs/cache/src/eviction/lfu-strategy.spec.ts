import { EvictionStrategy } from './eviction-strategy.interface';
import { LfuStrategy } from './lfu-strategy';
import { drain } from '../../test/drain-strategy';
import { mulberry32 } from '../../test/seeded-random';

/** Used through the interface the memory backend sees (`insert(slot, key)`), with its `state()`. */
type Strategy = Required<EvictionStrategy>;

function strategyWith(capacity: number, ...inserted: number[]): Strategy {
  const lfu: Strategy = new LfuStrategy();
  lfu.resize(capacity);
  for (const slot of inserted) lfu.insert(slot, `key-${slot}`);
  return lfu;
}

function accessAll(lfu: Strategy, ...slots: number[]): void {
  for (const slot of slots) lfu.access(slot);
}

/** Naive reference: lowest use count wins, ties go to the oldest last use; found by a scan. */
class ReferenceLfu {
  private readonly uses = new Map<number, { count: number; lastUse: number }>();
  private clock = 0;

  get live(): number[] {
    return [...this.uses.keys()];
  }

  insert(slot: number): void {
    this.uses.set(slot, { count: 1, lastUse: ++this.clock });
  }

  access(slot: number): void {
    const entry = this.uses.get(slot)!;
    entry.count++;
    entry.lastUse = ++this.clock;
  }

  remove(slot: number): void {
    this.uses.delete(slot);
  }

  lowestCount(): number {
    let lowest = 0;
    for (const { count } of this.uses.values()) if (lowest === 0 || count < lowest) lowest = count;
    return lowest;
  }

  victim(): number {
    let best = -1;
    let bestCount = Infinity;
    let bestUse = Infinity;
    for (const [slot, { count, lastUse }] of this.uses) {
      if (count < bestCount || (count === bestCount && lastUse < bestUse)) {
        best = slot;
        bestCount = count;
        bestUse = lastUse;
      }
    }
    return best;
  }
}

describe('LfuStrategy', () => {
  it('is named lfu', () => {
    expect(new LfuStrategy().name).toBe('lfu');
  });

  it('has no victim when empty', () => {
    expect(strategyWith(4).victim()).toBe(-1);
  });

  it('breaks a tie between never-accessed slots by insertion order', () => {
    expect(drain(strategyWith(4, 2, 0, 3))).toEqual([2, 0, 3]);
  });

  it('does not change state when asked for the victim', () => {
    const lfu = strategyWith(4, 0, 1, 2);
    accessAll(lfu, 0);
    expect(lfu.victim()).toBe(1);
    expect(lfu.victim()).toBe(1);
    expect(drain(lfu)).toEqual([1, 2, 0]);
  });

  it('evicts the least frequently used slot first', () => {
    const lfu = strategyWith(4, 0, 1, 2);
    accessAll(lfu, 0, 0, 1); // counts: 0 → 3, 1 → 2, 2 → 1
    expect(drain(lfu)).toEqual([2, 1, 0]);
  });

  it('breaks a tie in count by least recent use', () => {
    const lfu = strategyWith(4, 0, 1, 2);
    accessAll(lfu, 1, 0); // counts: 0 → 2, 1 → 2, 2 → 1; 1 reached 2 before 0 did
    expect(drain(lfu)).toEqual([2, 1, 0]);
  });

  it('lets a frequently used old slot outlive newer, rarely used ones', () => {
    const lfu = strategyWith(4, 0);
    accessAll(lfu, 0, 0);
    lfu.insert(1, 'k1');
    lfu.insert(2, 'k2');
    accessAll(lfu, 1);
    expect(drain(lfu)).toEqual([2, 1, 0]);
  });

  it('makes a new slot the victim when every other slot has been used more', () => {
    const lfu = strategyWith(4, 0, 1);
    accessAll(lfu, 0, 1);
    lfu.insert(2, 'new');
    expect(lfu.victim()).toBe(2);
  });

  it('moves the victim up when the lowest-frequency slot is accessed', () => {
    const lfu = strategyWith(4, 0, 1);
    accessAll(lfu, 0);
    expect(lfu.victim()).toBe(1);
    accessAll(lfu, 1, 1);
    expect(lfu.victim()).toBe(0);
  });

  it('reports the lowest frequency in state()', () => {
    const lfu = strategyWith(4, 0, 1);
    expect(lfu.state()).toEqual({ lowestFrequency: 1 });
    accessAll(lfu, 0, 1, 1);
    expect(lfu.state()).toEqual({ lowestFrequency: 2 });
    drain(lfu);
    expect(lfu.state()).toEqual({ lowestFrequency: 0 });
  });

  describe('removing arbitrary slots', () => {
    it('keeps the order of the others when removing a slot in the middle of a frequency', () => {
      const lfu = strategyWith(8, 0, 1, 2, 3);
      lfu.remove(1);
      expect(drain(lfu)).toEqual([0, 2, 3]);
    });

    it('drops an emptied frequency without losing the frequencies around it', () => {
      const lfu = strategyWith(8, 0, 1, 2);
      accessAll(lfu, 1, 2, 2); // counts: 0 → 1, 1 → 2, 2 → 3
      lfu.remove(1); // frequency 2 becomes empty
      lfu.insert(3, 'k3');
      accessAll(lfu, 3); // 3 → 2
      expect(drain(lfu)).toEqual([0, 3, 2]);
    });

    it('keeps the structure consistent when the highest-frequency slot is removed', () => {
      const lfu = strategyWith(8, 0, 1, 2);
      accessAll(lfu, 2, 2, 2);
      lfu.remove(2);
      accessAll(lfu, 0);
      expect(drain(lfu)).toEqual([1, 0]);
    });

    it('keeps the structure consistent when several slots are removed out of order', () => {
      const lfu = strategyWith(16, 0, 1, 2, 3, 4, 5, 6, 7);
      accessAll(lfu, 7, 7, 6, 5, 5, 5, 4);
      for (const slot of [5, 0, 7, 3]) lfu.remove(slot);
      expect(drain(lfu)).toEqual([1, 2, 6, 4]);
    });

    it('ignores the removal of a slot that holds nothing', () => {
      const lfu = strategyWith(4, 0, 1);
      lfu.remove(3);
      expect(drain(lfu)).toEqual([0, 1]);
    });
  });

  describe('slot reuse', () => {
    it('starts a re-inserted slot from a count of one', () => {
      const lfu = strategyWith(4, 0, 1);
      accessAll(lfu, 0, 0, 0, 1);
      lfu.remove(0);
      lfu.insert(0, 'new key in slot 0');
      expect(drain(lfu)).toEqual([0, 1]);
    });

    it('places a re-inserted slot after older slots with the same count', () => {
      const lfu = strategyWith(4, 0, 1, 2);
      lfu.remove(0);
      lfu.insert(0, 'reused');
      expect(drain(lfu)).toEqual([1, 2, 0]);
    });
  });

  describe('resize', () => {
    it('keeps existing slots, counts and order when growing', () => {
      const lfu = strategyWith(2, 0, 1);
      accessAll(lfu, 0);
      lfu.resize(8);
      lfu.insert(6, 'k6');
      lfu.insert(7, 'k7');
      accessAll(lfu, 7, 7);
      expect(drain(lfu)).toEqual([1, 6, 0, 7]);
    });
  });

  it('names the same victim as a naive model over 20,000 random operations with growth', () => {
    const random = mulberry32(0x5eed1f0);
    const lfu: Strategy = new LfuStrategy();
    const model = new ReferenceLfu();
    let capacity = 16;
    lfu.resize(capacity);
    const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)];
    const counts = { insert: 0, access: 0, accessVictim: 0, remove: 0, evict: 0 };
    let highestCount = 0;

    for (let op = 0; op < 20_000; op++) {
      if (op === 7_000) capacity = 40;
      if (op === 12_000) capacity = 64;
      if (op === 7_000 || op === 12_000) lfu.resize(capacity);

      const live = model.live;
      const free = Array.from({ length: capacity }, (_, slot) => slot).filter((slot) => !live.includes(slot));
      const roll = random();
      if (live.length === 0 || (free.length > 0 && roll < 0.3)) {
        const slot = pick(free);
        lfu.insert(slot, `key-${op}`);
        model.insert(slot);
        counts.insert++;
      } else if (roll < 0.65) {
        // Skewed toward the first live slots, so counts spread over many frequencies.
        const slot = live[Math.floor(random() ** 3 * live.length)];
        lfu.access(slot);
        model.access(slot);
        counts.access++;
      } else if (roll < 0.75) {
        const slot = model.victim();
        lfu.access(slot);
        model.access(slot);
        counts.accessVictim++;
      } else if (roll < 0.9) {
        const slot = pick(live);
        lfu.remove(slot);
        model.remove(slot);
        counts.remove++;
      } else {
        const victim = lfu.victim();
        lfu.remove(victim);
        model.remove(victim);
        counts.evict++;
      }
      const expected = model.victim();
      const actual = lfu.victim();
      if (actual !== expected) throw new Error(`op ${op}: victim ${actual}, the model says ${expected}`);
      const lowest = lfu.state().lowestFrequency;
      if (lowest !== model.lowestCount()) throw new Error(`op ${op}: lowestFrequency ${lowest}, the model says ${model.lowestCount()}`);
      highestCount = Math.max(highestCount, lowest);
    }

    // Every kind of operation ran many times, frequencies above 1 were the minimum at times,
    // and the full order still matches at the end.
    for (const n of Object.values(counts)) expect(n).toBeGreaterThan(1_000);
    expect(highestCount).toBeGreaterThan(1);
    const expectedOrder: number[] = [];
    for (let v = model.victim(); v !== -1; v = model.victim()) {
      expectedOrder.push(v);
      model.remove(v);
    }
    expect(expectedOrder.length).toBeGreaterThan(0);
    expect(drain(lfu)).toEqual(expectedOrder);
  });
});
