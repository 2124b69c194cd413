import { GcmIvSource } from './gcm-iv-source';

describe('GcmIvSource', () => {
  it('never repeats a nonce: a counter under a random field, and a new field when the counter is spent', () => {
    const source = new GcmIvSource();
    const seen = new Set<string>();
    const out = Buffer.alloc(12);
    for (let i = 0; i < 10_000; i++) {
      source.next(out, 0);
      seen.add(out.toString('hex'));
    }
    expect(seen.size).toBe(10_000);
    const field = out.subarray(0, 8).toString('hex');
    expect(out.readUInt32BE(8)).toBe(9_999);

    (source as unknown as { counter: number }).counter = 0xffff_ffff;
    source.next(out, 0);
    expect(out.readUInt32BE(8)).toBe(0);
    expect(out.subarray(0, 8).toString('hex')).not.toBe(field);
  });

  it('draws a different field in each instance (another process, another key)', () => {
    const a = Buffer.alloc(12);
    const b = Buffer.alloc(12);
    new GcmIvSource().next(a, 0);
    new GcmIvSource().next(b, 0);
    expect(a.equals(b)).toBe(false);
  });
});
