import { EvictionHistory, FROM_MAIN, FROM_WINDOW } from './eviction-history';
import { hashKey } from './hash-key';

describe('EvictionHistory', () => {
  it('remembers where a key was evicted from, once, within the horizon', () => {
    const history = new EvictionHistory();
    history.ensureCapacity(64);
    history.record(hashKey('a'), FROM_WINDOW, 64);
    history.record(hashKey('b'), FROM_MAIN, 64);
    expect(history.take(hashKey('a'), 64)).toBe(FROM_WINDOW);
    expect(history.take(hashKey('a'), 64)).toBe(0);
    expect(history.take(hashKey('b'), 64)).toBe(FROM_MAIN);
    expect(history.take(hashKey('never evicted'), 64)).toBe(0);
  });

  it('forgets a ghost older than the horizon', () => {
    const history = new EvictionHistory();
    history.ensureCapacity(1 << 12);
    history.record(hashKey('old'), FROM_MAIN, 10);
    for (let i = 0; i < 10; i++) history.record(hashKey(`later-${i}`), FROM_WINDOW, 10);
    expect(history.take(hashKey('old'), 10)).toBe(0);
  });

  it('tracks recent evictions per origin (the ghost list sizes)', () => {
    const history = new EvictionHistory();
    history.ensureCapacity(128);
    for (let i = 0; i < 1_000; i++) history.record(hashKey(`k${i}`), i % 4 === 0 ? FROM_MAIN : FROM_WINDOW, 100);
    expect(history.fromWindow / history.fromMain).toBeCloseTo(3, 0);
    expect(history.fromWindow + history.fromMain).toBeGreaterThan(90);
    expect(history.fromWindow + history.fromMain).toBeLessThanOrEqual(101);
  });
});
