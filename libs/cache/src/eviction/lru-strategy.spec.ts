import { EvictionStrategy } from './eviction-strategy.interface';
import { LruStrategy } from './lru-strategy';
import { drain } from '../../test/drain-strategy';
import { mulberry32 } from '../../test/seeded-random';

/** Used through the interface the memory backend sees: `insert(slot, key)`. */
type Strategy = EvictionStrategy;

function strategyWith(capacity: number, ...inserted: number[]): Strategy {
  const lru: Strategy = new LruStrategy();
  lru.resize(capacity);
  for (const slot of inserted) lru.insert(slot, `key-${slot}`);
  return lru;
}

/** Naive reference: the live slot with the oldest last use (insert or access), found by a scan. */
class ReferenceLru {
  private readonly lastUse = new Map<number, number>();
  private clock = 0;

  get live(): number[] {
    return [...this.lastUse.keys()];
  }

  insert(slot: number): void {
    this.lastUse.set(slot, ++this.clock);
  }

  access(slot: number): void {
    this.lastUse.set(slot, ++this.clock);
  }

  remove(slot: number): void {
    this.lastUse.delete(slot);
  }

  victim(): number {
    let best = -1;
    let bestUse = Infinity;
    for (const [slot, use] of this.lastUse) {
      if (use < bestUse) {
        best = slot;
        bestUse = use;
      }
    }
    return best;
  }
}

describe('LruStrategy', () => {
  it('is named lru', () => {
    expect(new LruStrategy().name).toBe('lru');
  });

  it('has no victim when empty', () => {
    expect(strategyWith(4).victim()).toBe(-1);
  });

  it('names the least recently inserted slot when nothing was accessed', () => {
    expect(strategyWith(4, 2, 0, 3).victim()).toBe(2);
  });

  it('does not change state when asked for the victim', () => {
    const lru = strategyWith(4, 0, 1, 2);
    expect(lru.victim()).toBe(0);
    expect(lru.victim()).toBe(0);
    expect(drain(lru)).toEqual([0, 1, 2]);
  });

  it('moves an accessed slot to the back of the eviction order', () => {
    const lru = strategyWith(4, 0, 1, 2);
    lru.access(0);
    expect(lru.victim()).toBe(1);
    expect(drain(lru)).toEqual([1, 2, 0]);
  });

  it('keeps the order when the most recent slot is accessed again', () => {
    const lru = strategyWith(4, 0, 1, 2);
    lru.access(2);
    lru.access(2);
    expect(drain(lru)).toEqual([0, 1, 2]);
  });

  it('evicts in least-recently-used order after a mix of accesses', () => {
    const lru = strategyWith(8, 0, 1, 2, 3, 4);
    lru.access(2);
    lru.access(0);
    lru.access(3);
    lru.access(2);
    expect(drain(lru)).toEqual([1, 4, 0, 3, 2]);
  });

  it('names the next victim after the current one is removed', () => {
    const lru = strategyWith(4, 0, 1, 2);
    lru.remove(lru.victim());
    expect(lru.victim()).toBe(1);
    lru.remove(lru.victim());
    expect(lru.victim()).toBe(2);
    lru.remove(lru.victim());
    expect(lru.victim()).toBe(-1);
  });

  describe('removing arbitrary slots', () => {
    it.each([
      ['the most recent (head)', 4, [0, 1, 2, 3]],
      ['the least recent (tail)', 0, [1, 2, 3, 4]],
      ['one in the middle', 2, [0, 1, 3, 4]],
    ])('keeps the order of the others when removing %s', (_label, removed, expected) => {
      const lru = strategyWith(8, 0, 1, 2, 3, 4);
      lru.remove(removed);
      expect(drain(lru)).toEqual(expected);
    });

    it('keeps the list consistent when several slots are removed out of order', () => {
      const lru = strategyWith(16, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
      for (const slot of [5, 0, 9, 3, 4, 1]) lru.remove(slot);
      lru.access(2);
      expect(drain(lru)).toEqual([6, 7, 8, 2]);
    });

    it('can remove the only slot and start again', () => {
      const lru = strategyWith(4, 3);
      lru.remove(3);
      expect(lru.victim()).toBe(-1);
      lru.insert(1, 'again');
      expect(lru.victim()).toBe(1);
    });
  });

  describe('slot reuse', () => {
    it('treats a re-inserted slot as the most recent entry', () => {
      const lru = strategyWith(4, 0, 1, 2);
      lru.remove(0);
      lru.insert(0, 'new key in slot 0');
      expect(drain(lru)).toEqual([1, 2, 0]);
    });

    it('forgets the old position of a slot reused after eviction', () => {
      const lru = strategyWith(3, 0, 1, 2);
      lru.remove(lru.victim());
      lru.insert(0, 'reused');
      lru.access(1);
      expect(drain(lru)).toEqual([2, 0, 1]);
    });
  });

  describe('resize', () => {
    it('keeps existing slots and their order when growing', () => {
      const lru = strategyWith(2, 0, 1);
      lru.resize(8);
      lru.insert(5, 'k5');
      lru.insert(7, 'k7');
      lru.access(0);
      expect(drain(lru)).toEqual([1, 5, 7, 0]);
    });

    it('ignores a resize to the same or a smaller capacity', () => {
      const lru = strategyWith(4, 0, 1, 2, 3);
      lru.resize(4);
      lru.resize(2);
      lru.access(1);
      expect(drain(lru)).toEqual([0, 2, 3, 1]);
    });
  });

  it('names the same victim as a naive model over 20,000 random operations with growth', () => {
    const random = mulberry32(0xc0ffee);
    const lru: Strategy = new LruStrategy();
    const model = new ReferenceLru();
    let capacity = 16;
    lru.resize(capacity);
    const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)];
    const counts = { insert: 0, access: 0, remove: 0, evict: 0 };

    for (let op = 0; op < 20_000; op++) {
      if (op === 7_000) capacity = 40;
      if (op === 12_000) capacity = 64;
      if (op === 7_000 || op === 12_000) lru.resize(capacity);

      const live = model.live;
      const free = Array.from({ length: capacity }, (_, slot) => slot).filter((slot) => !live.includes(slot));
      const roll = random();
      if (live.length === 0 || (free.length > 0 && roll < 0.35)) {
        const slot = pick(free);
        lru.insert(slot, `key-${op}`);
        model.insert(slot);
        counts.insert++;
      } else if (roll < 0.75) {
        const slot = pick(live);
        lru.access(slot);
        model.access(slot);
        counts.access++;
      } else if (roll < 0.9) {
        const slot = pick(live);
        lru.remove(slot);
        model.remove(slot);
        counts.remove++;
      } else {
        const victim = lru.victim();
        lru.remove(victim);
        model.remove(victim);
        counts.evict++;
      }
      const expected = model.victim();
      const actual = lru.victim();
      if (actual !== expected) throw new Error(`op ${op}: victim ${actual}, the model says ${expected}`);
    }

    // Every kind of operation ran many times, and the full order still matches at the end.
    for (const n of Object.values(counts)) expect(n).toBeGreaterThan(1_000);
    const expectedOrder: number[] = [];
    for (let v = model.victim(); v !== -1; v = model.victim()) {
      expectedOrder.push(v);
      model.remove(v);
    }
    expect(expectedOrder.length).toBeGreaterThan(0);
    expect(drain(lru)).toEqual(expectedOrder);
  });
});
