/**
 * L1 coherence by Redis key tracking on a real redis-server: two app instances whose L1s are kept
 * coherent by `CLIENT TRACKING ... BCAST` (no bus), against writes of clients that do not use the
 * library (a plain ioredis client, `redis-cli`), a FLUSHALL, and the loss of the redirect and of a
 * command connection (`CLIENT KILL`).
 */
import { Test, TestingModule } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import { runRedisCli, sleep, useRedisServer } from '../../../test/support/redis-server';
import { CacheModule } from '../src/cache.module';
import { CacheService } from '../src/cache.service';
import { CacheModuleOptions } from '../src/options/cache-module-options.interface';
import { InvalidOptionsError } from '../src/errors/invalid-options.error';
import { resolveCacheOptions } from '../src/options/resolve-cache-options';

/** The one line of docs/<page> starting with `prefix`, as `ACL SETUSER` arguments. */
function docLine(page: string, prefix: string): string[] {
  const lines = readFileSync(join(__dirname, '../../../docs', page), 'utf8').split('\n').filter((l) => l.startsWith(prefix));
  if (lines.length !== 1) throw new Error(`expected one "${prefix}" line in docs/${page}, found ${lines.length}`);
  return lines[0].trim().split(/\s+/).slice(2);
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

interface Instance { moduleRef: TestingModule; cache: CacheService }

async function startInstance(url: string, overrides: Partial<CacheModuleOptions> = {}): Promise<Instance> {
  const moduleRef = await Test.createTestingModule({
    imports: [CacheModule.forRoot({
      redis: { url },
      trackingHeartbeat: '100ms',
      namespaces: {
        users: { backend: 'redis', ttl: '1h', l1: { coherence: 'tracking' }, failSafe: { grace: '1h' } },
        plain: { backend: 'redis', ttl: '1h', l1: { coherence: 'tracking' } },
      },
      ...overrides,
    })],
  }).compile();
  await moduleRef.init();
  const cache = moduleRef.get(CacheService);
  await until(() => cache.namespace('users').stats().tracking?.connected === true);
  return { moduleRef, cache };
}

/** `CLIENT LIST` entries of the library's connections of one kind, by name. */
async function clients(admin: Redis, name: string): Promise<Record<string, string>[]> {
  const list = await admin.client('LIST') as string;
  return list.trim().split('\n')
    .map((line) => Object.fromEntries(line.split(' ').map((field) => field.split('=', 2) as [string, string])))
    .filter((c) => c.name === name);
}

describe('L1 coherence by Redis key tracking, two instances', () => {
  let outsider: Redis;
  const redis = useRedisServer({ flushBeforeEach: true, beforeStop: () => outsider.disconnect() });
  let instances: Instance[];

  beforeAll(() => {
    outsider = new Redis(redis.server.port, '127.0.0.1');
  });

  beforeEach(async () => {
    instances = await Promise.all([0, 1].map(() => startInstance(redis.server.url)));
  });
  afterEach(async () => {
    await Promise.all(instances.map((i) => i.moduleRef.close()));
  });

  const users = (i: number): ReturnType<CacheService['namespace']> => instances[i].cache.namespace('users');

  /** Both instances hold `key` in L1 (the second read of each is an L1 hit). */
  async function cachedEverywhere(key: string, value: unknown): Promise<void> {
    for (const i of [0, 1]) {
      expect(await users(i).get(key)).toEqual(value);
      const hits = users(i).stats().tiers!.l1!.hits;
      expect(await users(i).get(key)).toEqual(value);
      expect(users(i).stats().tiers!.l1!.hits).toBe(hits + 1);
    }
  }

  it('drops the L1 copies of both instances when a plain ioredis client writes or deletes the key', async () => {
    await users(0).set('u1', { name: 'old' });
    await cachedEverywhere('u1', { name: 'old' });

    await outsider.set('cache:{users}:u1', JSON.stringify({ name: 'new' }));
    for (const i of [0, 1]) await until(async () => (await users(i).get('u1') as { name: string } | undefined)?.name === 'new');
    await cachedEverywhere('u1', { name: 'new' });

    await outsider.del('cache:{users}:u1');
    for (const i of [0, 1]) await until(async () => (await users(i).get('u1')) === undefined);
    expect(users(0).stats().tracking!.invalidations).toBeGreaterThanOrEqual(2);
  });

  it('drops the L1 copies of both instances when redis-cli writes the key', async () => {
    await users(1).set('u2', { name: 'old' });
    await cachedEverywhere('u2', { name: 'old' });
    await runRedisCli(['-h', '127.0.0.1', '-p', String(redis.server.port), 'SET', 'cache:{users}:u2', '{"name":"cli"}']);
    for (const i of [0, 1]) await until(async () => (await users(i).get('u2') as { name: string } | undefined)?.name === 'cli');
  });

  it('drops the other instance\'s copy on a library write, keeps the writer\'s own (NOLOOP), with no bus', async () => {
    await users(0).set('u3', 1);
    await cachedEverywhere('u3', 1);
    const received = users(1).stats().tracking!.invalidations;
    await users(0).set('u3', 2);
    await until(() => users(1).stats().tracking!.invalidations > received);
    expect(await users(1).get('u3')).toBe(2);
    const hits = users(0).stats().tiers!.l1!.hits;
    expect(await users(0).get('u3')).toBe(2);
    expect(users(0).stats().tiers!.l1!.hits).toBe(hits + 1); // not invalidated by its own write
    expect(users(0).stats().bus).toBeUndefined();
  });

  it('tracks only the namespaces\' prefixes, and a FLUSHALL empties every L1', async () => {
    await users(0).set('u4', 'x');
    await cachedEverywhere('u4', 'x');
    const before = users(0).stats().tracking!.invalidations;
    await outsider.set('elsewhere:u4', 'y');
    await outsider.flushall();
    for (const i of [0, 1]) await until(() => users(i).stats().entries === 0);
    expect(users(0).stats().tracking!.invalidations).toBe(before);
    expect(users(0).stats().tracking!.flushes).toBeGreaterThanOrEqual(1);
  });

  it('enables tracking on the command connection, redirected to its own subscriber connection', async () => {
    const redirects = await clients(redis.admin, 'nest-cachekit:tracking');
    const commands = await clients(redis.admin, 'nest-cachekit');
    expect(redirects).toHaveLength(2);
    expect(commands).toHaveLength(2);
    for (const command of commands) {
      expect(command.flags).toContain('t');
      expect(command.flags).toContain('B'); // BCAST
      expect(redirects.map((r) => r.id)).toContain(command.redir);
    }
  });

  it('a killed redirect connection: L1 untrusted, resynced when back, so a write made meanwhile is never answered', async () => {
    await users(0).set('u5', 'before');
    await cachedEverywhere('u5', 'before');
    const redirects = await clients(redis.admin, 'nest-cachekit:tracking');
    // Kill them and write in the same round trip: the write lands before either can reconnect.
    await redis.admin.pipeline().client('KILL', 'ID', redirects[0].id).client('KILL', 'ID', redirects[1].id).set('cache:{users}:u5', '"during"').exec();
    for (const i of [0, 1]) await until(() => users(i).stats().tracking!.lost === 1);
    for (const i of [0, 1]) await until(() => users(i).stats().tracking!.connected && users(i).stats().tracking!.resyncs === 1);
    for (const i of [0, 1]) expect(await users(i).get('u5')).toBe('during');
    // Tracking works again, redirected to the new connections.
    const again = await clients(redis.admin, 'nest-cachekit:tracking');
    expect(again.map((r) => r.id)).not.toContain(redirects[0].id);
    await cachedEverywhere('u5', 'during');
    await outsider.set('cache:{users}:u5', '"after"');
    for (const i of [0, 1]) await until(async () => (await users(i).get('u5')) === 'after');
  });

  it('a killed command connection: it reconnects and tracks again before its reads are trusted', async () => {
    await users(0).set('u6', 'before');
    await cachedEverywhere('u6', 'before');
    const commands = await clients(redis.admin, 'nest-cachekit');
    await redis.admin.pipeline().client('KILL', 'ID', commands[0].id).client('KILL', 'ID', commands[1].id).set('cache:{users}:u6', '"during"').exec();
    for (const i of [0, 1]) await until(() => users(i).stats().tracking!.connected && users(i).stats().tracking!.resyncs === 1);
    for (const i of [0, 1]) expect(await users(i).get('u6')).toBe('during');
    const again = await clients(redis.admin, 'nest-cachekit');
    for (const command of again) expect(command.flags).toContain('t');
    await outsider.set('cache:{users}:u6', '"after"');
    for (const i of [0, 1]) await until(async () => (await users(i).get('u6')) === 'after');
  });
});

describe('coherence "both": the bus and tracking together, with encryption, tags and a least-privilege ACL user', () => {
  const secret = randomBytes(32).toString('base64');
  const key = randomBytes(32).toString('base64');
  const password = randomBytes(16).toString('hex');
  let outsider: Redis;
  const redis = useRedisServer({ flushBeforeEach: true, beforeStop: () => outsider.disconnect() });
  let instances: Instance[];

  beforeAll(async () => {
    outsider = new Redis(redis.server.port, '127.0.0.1');
    // The library's user as documented: the minimal line, the bus channel, and what tracking needs.
    const withPassword = (rules: string[]): string[] => rules.map((rule) => (rule === '>password' ? `>${password}` : rule));
    await redis.admin.call('ACL', 'SETUSER', ...withPassword(docLine('redis-topologies.md', 'ACL SETUSER cache on ')));
    await redis.admin.call('ACL', 'SETUSER', ...withPassword(docLine('resilience-and-tiers.md', 'ACL SETUSER cache resetchannels ')));
    await redis.admin.call('ACL', 'SETUSER', ...withPassword(docLine('redis-topologies.md', 'ACL SETUSER cache +client|id ')));
  });
  beforeEach(async () => {
    await redis.admin.acl('LOG', 'RESET');
    instances = await Promise.all([0, 1].map(() => startInstance(`redis://cache:${password}@127.0.0.1:${redis.server.port}`, {
      bus: { secret, heartbeat: '100ms' },
      namespaces: {
        users: { backend: 'redis', ttl: '1h', l1: { coherence: 'both' }, encryption: { keys: [{ id: 'k1', key }] } },
      },
    })));
    await until(() => instances.every((i) => i.cache.namespace('users').stats().bus?.connected === true));
  });
  afterEach(async () => {
    await Promise.all(instances.map((i) => i.moduleRef.close()));
  });

  const users = (i: number): ReturnType<CacheService['namespace']> => instances[i].cache.namespace('users');
  const inL1 = async (i: number, k: string): Promise<boolean> => {
    const hits = users(i).stats().tiers!.l1!.hits;
    await users(i).get(k);
    return users(i).stats().tiers!.l1!.hits > hits;
  };

  it('tag invalidations and clears still reach the other L1s; an outside write drops the copies and its unsealed value is refused', async () => {
    await users(0).set('a', 1, { tags: ['t'] });
    await users(0).set('b', 2);
    await sleep(50);
    for (const k of ['a', 'b']) await users(1).get(k);
    await until(async () => (await inL1(1, 'a')) && (await inL1(1, 'b')));

    await users(0).invalidateTag('t');
    await until(() => users(1).stats().entries === 0); // the bus's clear: L1 copies do not know their tags
    expect(await users(1).get('a')).toBeUndefined();
    expect(await users(1).get('b')).toBe(2);
    await until(() => inL1(1, 'b'));

    await users(0).clear();
    await until(() => users(1).stats().entries === 0);
    expect(await users(1).get('b')).toBeUndefined();

    await users(0).set('c', 'sealed');
    await sleep(50);
    await until(async () => (await users(1).get('c')) === 'sealed' && inL1(1, 'c'));
    await outsider.set('cache:{users}:c', '"planted"');
    for (const i of [0, 1]) await until(async () => (await users(i).get('c')) === undefined); // dropped by tracking, then refused by the seal
    expect((users(0).stats().tamperDetected ?? 0) + (users(1).stats().tamperDetected ?? 0)).toBe(1); // the first reader drops it
    expect(users(0).stats().tracking!.invalidations).toBeGreaterThanOrEqual(1);
    expect(await redis.admin.acl('LOG')).toEqual([]);
  });
  it('a lost redirect connection resyncs the L1s although the bus stayed up: an outside write made meanwhile is never answered', async () => {
    await users(0).set('d', 'before');
    await sleep(50);
    await until(async () => (await users(1).get('d')) === 'before' && inL1(1, 'd'));
    const list = await redis.admin.client('LIST') as string;
    const redirects = [...list.matchAll(/^id=(\d+) .*name=nest-cachekit:tracking /gm)].map((m) => m[1]);
    expect(redirects).toHaveLength(2);
    // Killed, and the key rewritten by another client in the same round trip: that change is never announced.
    await redis.admin.pipeline().client('KILL', 'ID', redirects[0]).client('KILL', 'ID', redirects[1]).set('cache:{users}:d', '"during"').exec();
    for (const i of [0, 1]) await until(() => users(i).stats().tracking!.resyncs === 1 && users(i).stats().tracking!.connected);
    expect(users(1).stats().bus!.resyncs).toBe(0);
    // The outside value is not sealed: refused, so the answer is a miss, never the old copy.
    expect(await users(1).get('d')).toBeUndefined();
  });
});

describe('l1.coherence options', () => {
  const secret = randomBytes(32).toString('base64');
  const start = (options: CacheModuleOptions): Promise<unknown> => Test.createTestingModule({ imports: [CacheModule.forRoot(options)] }).compile();

  it('refuses an unknown mode, naming the field', async () => {
    await expect(start({
      redis: { url: 'redis://127.0.0.1:1' },
      namespaces: { users: { backend: 'redis', l1: { coherence: 'keys' as never } } },
    })).rejects.toThrow(/namespaces\.users\.l1\.coherence/);
    await expect(start({ redis: { url: 'redis://127.0.0.1:1' }, l1Coherence: 'nope' as never, bus: { secret } }))
      .rejects.toThrow(InvalidOptionsError);
  });

  it('needs the bus for "both", not for "tracking"', async () => {
    await expect(start({
      redis: { url: 'redis://127.0.0.1:1' },
      namespaces: { users: { backend: 'redis', l1: { coherence: 'both' } } },
    })).rejects.toThrow(/namespaces\.users\.l1\.coherence: .*bus\.secret/);
    const resolved = resolveCacheOptions({
      redis: { url: 'redis://127.0.0.1:1' },
      namespaces: { users: { backend: 'redis', l1: {} } },
      l1Coherence: 'tracking',
    });
    expect(resolved.namespaces.get('users')!.resilience!.l1.coherence).toBe('tracking');
  });
});
