import { Logger } from '@nestjs/common';
import { createHmac } from 'node:crypto';
import { AuditRecord } from './audit-record';
import { AuditTrail } from './audit-trail';

const SECRET = 'audit-trail-spec-secret';

describe('AuditTrail', () => {
  let now: number;
  let errors: string[];
  beforeEach(() => {
    now = Date.UTC(2026, 11, 2, 10, 0, 0);
    errors = [];
    jest.spyOn(Logger.prototype, 'error').mockImplementation((message: unknown) => void errors.push(String(message)));
  });
  afterEach(() => jest.restoreAllMocks());

  it('stamps the time, hashes the key and tag with HMAC-SHA256 over "<namespace>\\0<key>", and keeps no raw key', () => {
    const records: AuditRecord[] = [];
    const trail = new AuditTrail({ write: (r) => void records.push(r) }, SECRET, true, () => now);
    trail.record({ actor: 'ann', actorKind: 'user', action: 'invalidate', namespace: 'users', key: 'user:42', outcome: 'success', detail: { existed: true } });
    trail.record({ actor: 'ann', actorKind: 'user', action: 'invalidateTag', namespace: 'users', tag: 'team:7', outcome: 'success' });
    const expected = createHmac('sha256', SECRET).update('users\u0000user:42').digest('hex');
    expect(records).toEqual([
      { time: '2026-12-02T10:00:00.000Z', actor: 'ann', actorKind: 'user', action: 'invalidate', namespace: 'users', keyHash: expected, outcome: 'success', detail: { existed: true } },
      { time: '2026-12-02T10:00:00.000Z', actor: 'ann', actorKind: 'user', action: 'invalidateTag', namespace: 'users', tagHash: trail.hash('users', 'team:7'), outcome: 'success' },
    ]);
    expect(trail.hash('other', 'user:42')).not.toBe(expected);
    expect(new AuditTrail({ write: () => undefined }, 'another-secret-xyz').hash('users', 'user:42')).not.toBe(expected);
    expect(JSON.stringify(records)).not.toContain('42');
    expect(trail.stats()).toEqual({ recorded: 2, sinkFailures: 0 });
  });

  it('counts a sink that throws or rejects, never throws itself, and logs at most once per 10 s with the count', async () => {
    let mode: 'throw' | 'reject' = 'throw';
    const trail = new AuditTrail({
      write: () => {
        if (mode === 'throw') throw Object.assign(new Error('disk full writing user:42'), { code: 'ENOSPC' });
        return Promise.reject(new TypeError('SIEM down'));
      },
    }, SECRET, true, () => now);
    const input = { actor: 'a', actorKind: 'user', action: 'clear', namespace: 'n', outcome: 'success' } as const;
    for (let i = 0; i < 5; i++) expect(() => trail.record(input)).not.toThrow();
    expect(trail.stats()).toEqual({ recorded: 5, sinkFailures: 5 });
    expect(errors).toEqual(['The audit sink failed 1 time(s) since the last report (1 in all): Error (ENOSPC)']); // by name and code: a sink's message may quote a record
    mode = 'reject';
    trail.record(input);
    await new Promise((resolve) => setImmediate(resolve));
    expect(trail.stats().sinkFailures).toBe(6);
    expect(errors).toHaveLength(1);
    now += 10_000;
    trail.record(input);
    await new Promise((resolve) => setImmediate(resolve));
    expect(errors[1]).toBe('The audit sink failed 6 time(s) since the last report (7 in all): TypeError');
  });

  it('does nothing when disabled', () => {
    const write = jest.fn();
    const trail = new AuditTrail({ write }, SECRET, false);
    trail.record({ actor: 'a', actorKind: 'user', action: 'clear', namespace: 'n', outcome: 'success' });
    expect(write).not.toHaveBeenCalled();
    expect(trail.stats()).toEqual({ recorded: 0, sinkFailures: 0 });
  });
});
