/**
 * The warm-up CLI (the library's `nest-cachekit` bin, `npm run cache:warmup`) run as a real process
 * against the built demo on a real redis-server: exit codes, output, and what lands in Redis.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import { RedisServer, startRedisServer } from './support/redis-server';

const root = join(__dirname, '..');
const bin = join(root, 'libs/cache/dist/cli/main.js');
const demoModule = join(root, 'dist/apps/demo/app.module.js');
const scratch = join(root, '.test-output');

describe('warm-up CLI against the demo', () => {
  let redis: RedisServer;
  let admin: Redis;

  const cli = (...args: string[]) => {
    const run = spawnSync(process.execPath, [bin, 'warmup', ...args], {
      cwd: root, encoding: 'utf8', env: { ...process.env, REDIS_URL: redis.url }, timeout: 60_000,
    });
    return { status: run.status, stdout: run.stdout, stderr: run.stderr };
  };

  beforeAll(async () => {
    // The CLI loads compiled code, as it would in production.
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'pipe' });
    redis = await startRedisServer();
    admin = new Redis(redis.port, '127.0.0.1');
  }, 120_000);
  afterAll(async () => {
    admin.disconnect();
    await redis.stop();
  });
  beforeEach(() => admin.flushall());

  it('runs the demo\'s warm-ups into Redis with a progress line and a summary, exit 0', async () => {
    const { status, stdout } = cli('--module', demoModule);
    expect(status).toBe(0);
    expect(stdout).toContain('[########################] 1/1 TracksService.warmCharts');
    expect(stdout).toMatch(/TracksService\.warmCharts\s+tracks\s+ok\s+5\s+\d+/);
    expect(stdout).toContain('1 succeeded, 0 failed');
    expect(await admin.exists('demo:{tracks}:track:t1', 'demo:{tracks}:track:t5')).toBe(2);
  });

  it('selects by namespace, and writes nothing on a dry run', async () => {
    expect(cli('--module', demoModule, '--namespace', 'users').stdout).toContain('No @Warmup methods for namespace "users"');
    const dry = cli('--module', demoModule, '--dry-run');
    expect(dry.status).toBe(0);
    expect(dry.stdout).toContain('dry run: 1 warm-up(s) would run');
    expect(await admin.dbsize()).toBe(0);
  });

  it('loads an NDJSON file, reporting bad lines by number and skipping them, exit 1', async () => {
    mkdirSync(scratch, { recursive: true });
    const file = join(scratch, 'entries.ndjson');
    writeFileSync(file, [
      JSON.stringify({ namespace: 'tracks', key: 'track:x1', value: { title: 'One' }, ttl: '1h', tags: ['artist:9'] }),
      '{"namespace": "tracks", "key": "broken"',
      JSON.stringify({ namespace: 'nowhere', key: 'k', value: 1 }),
      '',
      JSON.stringify({ namespace: 'tracks', key: 'track:x2', value: 2, ttl: '1 hour' }),
      JSON.stringify({ namespace: 'tracks', key: 'track:x3', value: [3] }),
      JSON.stringify({ key: 'in-default', value: true, extra: 1 }),
    ].join('\n'));
    const { status, stdout, stderr } = cli('--module', demoModule, '--from', file);
    expect(status).toBe(1);
    expect(stderr).toMatch(/^line 2: not valid JSON .*\(skipped\)$/m);
    expect(stderr).toMatch(/^line 3: Unknown cache namespace "nowhere".*\(skipped\)$/m);
    expect(stderr).toMatch(/^line 5: Invalid TTL .*"1 hour" is not a duration string.*\(skipped\)$/m);
    expect(stderr).toMatch(/^line 7: unknown field\(s\): extra \(skipped\)$/m);
    expect(stdout).toContain('loaded 2 entries from');
    expect(stdout).toContain('skipped 4 bad line(s)');
    expect((await admin.keys('demo:*')).sort()).toEqual(['demo:{tracks}:\u001ftag:artist:9', 'demo:{tracks}:track:x1', 'demo:{tracks}:track:x3']);
    expect(await admin.pttl('demo:{tracks}:track:x1')).toBeGreaterThan(3_000_000);
  });

  it('exits 1 when a warm-up fails, naming it, and 2 on a usage error', async () => {
    mkdirSync(scratch, { recursive: true });
    const fixture = join(scratch, 'failing-warmup.module.js');
    writeFileSync(fixture, `
      const { Injectable, Module } = require('@nestjs/common');
      const { CacheModule, Warmup } = require(${JSON.stringify(join(root, 'libs/cache'))});
      class Jobs {
        async good() { return [{ key: 'good', value: 1 }]; }
        async broken() { throw Object.assign(new Error('source down at https://user:hunter2@source'), { code: 'ECONNREFUSED' }); }
      }
      for (const [name, priority] of [['good', 2], ['broken', 1]]) {
        Warmup({ priority })(Jobs.prototype, name, Object.getOwnPropertyDescriptor(Jobs.prototype, name));
      }
      Injectable()(Jobs);
      class FailingModule {}
      Module({ imports: [CacheModule.forRoot({ redis: { url: process.env.REDIS_URL }, defaults: { backend: 'redis' } })], providers: [Jobs] })(FailingModule);
      module.exports = { FailingModule };
    `);
    const failed = cli('--module', fixture, '--export', 'FailingModule');
    expect(failed.status).toBe(1);
    // The report and the log line name the error by class and code, never by its message.
    expect(failed.stdout).toMatch(/Jobs\.broken\s+default\s+FAILED: Error \(ECONNREFUSED\)/);
    expect(failed.stderr).toMatch(/Jobs\.broken failed after \d+ ms: Error \(ECONNREFUSED\)/);
    expect(failed.stdout + failed.stderr).not.toContain('hunter2');
    expect(failed.stdout).toContain('1 succeeded, 1 failed');
    expect(await admin.exists('cache:{default}:good')).toBe(1);

    const usage = cli('--modul', fixture);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('unknown argument --modul');
    expect(cli('--module', fixture).stderr).toContain('has no export "AppModule" (use --export)');
  });

  it('exits 2 with one line and no stack trace on every usage error', () => {
    const broken = join(scratch, 'throws-on-load.module.js');
    mkdirSync(scratch, { recursive: true });
    writeFileSync(broken, 'throw new TypeError("cannot read config");\n');
    const cases: [string[], RegExp][] = [
      [['--module', join(scratch, 'no-such.module.js')], /^nest-cachekit warmup: --module .*no-such\.module\.js: no such file$/],
      [['--module', broken], /^nest-cachekit warmup: --module .*throws-on-load\.module\.js could not be loaded: TypeError$/],
      [['--module', demoModule, '--namespace', 'nowhere'], /^nest-cachekit warmup: unknown namespace "nowhere" \(known: .*\)$/],
      [['--module', demoModule, '--from', join(scratch, 'no-such.ndjson')], /^nest-cachekit warmup: --from .*no-such\.ndjson could not be read: Error \(ENOENT\)$/],
    ];
    for (const [args, line] of cases) {
      const run = cli(...args);
      expect({ args, status: run.status }).toEqual({ args, status: 2 });
      expect(run.stderr.trimEnd()).toMatch(line);
      expect(run.stderr).not.toMatch(/^\s+at /m);
    }
    const noCommand = spawnSync(process.execPath, [bin], { cwd: root, encoding: 'utf8' });
    expect(noCommand.status).toBe(2);
    expect(noCommand.stderr).toContain('nest-cachekit: no command');
  });
});
