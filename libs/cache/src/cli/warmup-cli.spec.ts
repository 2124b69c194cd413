import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditRecords } from '../../test/rbac-cli-app.fixture';
import { runWarmupCli } from './warmup-cli';

const fixture = join(__dirname, '../../test/rbac-cli-app.fixture.ts');

describe('warm-up CLI under RBAC', () => {
  let dir: string;
  let out: string;
  let err: string;
  const output = { out: (t: string) => void (out += t), err: (t: string) => void (err += t), isTTY: false };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cli-rbac-'));
    out = '';
    err = '';
    auditRecords.length = 0;
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
    delete process.env.RBAC_CLI_SYSTEM_ROLES;
    delete process.env.NEST_CACHEKIT_SKIP_BOOTSTRAP_WARMUP;
  });

  it('runs warm-ups and loads files as the configured system principal, audited as such', async () => {
    expect(await runWarmupCli(['warmup', '--module', fixture], output)).toBe(0);
    expect(out).toContain('1 succeeded, 0 failed');
    expect(auditRecords).toEqual([expect.objectContaining({ actor: 'batch', action: 'warmup', namespace: 'tracks', outcome: 'success' })]);
    const file = join(dir, 'entries.ndjson');
    writeFileSync(file, '{"namespace":"tracks","key":"k1","value":1}\n');
    expect(await runWarmupCli(['warmup', '--module', fixture, '--from', file], output)).toBe(0);
    expect(out).toContain('loaded 1 entries');
  });

  it('reports lines the system principal may not write as bad lines, instead of crashing', async () => {
    process.env.RBAC_CLI_SYSTEM_ROLES = 'reader';
    const file = join(dir, 'entries.ndjson');
    writeFileSync(file, '{"namespace":"tracks","key":"k1","value":1}\n');
    expect(await runWarmupCli(['warmup', '--module', fixture, '--from', file], output)).toBe(1);
    expect(err).toContain('line 1: Principal "batch" may not set in cache namespace "tracks": needs "write". (skipped)');
    expect(await runWarmupCli(['warmup', '--module', fixture], output)).toBe(1);
    expect(out).toContain('FAILED: Principal "batch" may not mset in cache namespace "tracks"');
    expect(auditRecords.filter((r) => r.outcome === 'denied').map((r) => r.action)).toEqual(['set', 'mset']);
  });
});
