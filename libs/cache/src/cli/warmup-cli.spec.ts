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
    expect(auditRecords).toEqual([expect.objectContaining({ actor: 'batch', actorKind: 'system', action: 'warmup', namespace: 'tracks', outcome: 'success' })]);
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
    // The report names the error by class and code, never by its message.
    expect(out).toMatch(/Warmups\.tracks\s+tracks\s+FAILED: CacheAccessDeniedError \(CACHE_ACCESS_DENIED\)\s/);
    expect(out).not.toContain('may not mset');
    expect(auditRecords.filter((r) => r.outcome === 'denied').map((r) => r.action)).toEqual(['set', 'mset']);
  });

  describe('usage errors: exit 2, one line on stderr, no stack trace', () => {
    const oneLine = (text: string) => {
      expect(text.split('\n')[0]).toMatch(/^nest-cachekit warmup: /);
      expect(text).not.toMatch(/^\s+at /m);
    };

    it.each([
      ['a missing --module file', () => ['--module', join(dir, 'missing.module.js')], /--module .*missing\.module\.js: no such file/],
      ['a --module file that throws when loaded', () => {
        const file = join(dir, 'throwing.module.js');
        writeFileSync(file, 'throw Object.assign(new Error("DATABASE_URL=postgres://user:hunter2@db is not reachable"), { code: "ECONNREFUSED" });\n');
        return ['--module', file];
      }, /--module .*throwing\.module\.js could not be loaded: Error \(ECONNREFUSED\)$/m],
      ['a --module file with a syntax error', () => {
        const file = join(dir, 'broken.module.js');
        writeFileSync(file, 'module.exports = {\n');
        return ['--module', file];
      }, /could not be loaded: SyntaxError$/m],
      ['a missing export', () => ['--module', fixture, '--export', 'NoSuchModule'], /has no export "NoSuchModule" \(use --export\)/],
      ['an unknown --namespace', () => ['--module', fixture, '--namespace', 'trakcs'], /unknown namespace "trakcs" \(known: /],
      ['an unreadable --from file', () => ['--module', fixture, '--from', join(dir, 'missing.ndjson')], /--from .*missing\.ndjson could not be read: Error \(ENOENT\)/],
      ['an unknown argument', () => ['--module', fixture, '--modul'], /unknown argument --modul/],
    ] as [string, () => string[], RegExp][])('%s', async (_, args, message) => {
      expect(await runWarmupCli(['warmup', ...args()], output)).toBe(2);
      expect(err).toMatch(message);
      oneLine(err);
      expect(err).not.toContain('hunter2');
      expect(out).toBe('');
      expect(auditRecords).toEqual([]);
    });
  });
});
