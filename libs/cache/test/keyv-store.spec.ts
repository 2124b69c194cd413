/**
 * The Keyv adapter held to Keyv's own compliance suite (@keyv/test-suite: API, values, namespaces),
 * on a memory namespace and on a Redis namespace of a real redis-server, plus what the suite does
 * not cover: values reaching our backend, TTLs, and cache-manager 7 on top. Each runs on Keyv 5 and
 * on Keyv 6 (which needs Node 22.19 or later, so on older Node only Keyv 5 runs).
 */
import keyvTestSuite from '@keyv/test-suite';
import { Test, TestingModule } from '@nestjs/testing';
import { createCache } from 'cache-manager';
import Keyv from 'keyv';
import { useRedisServer } from '../../../test/support/redis-server';
import { CacheModule } from '../src/cache.module';
import { CacheService } from '../src/cache.service';
import { InvalidKeyError } from '../src/errors/invalid-key.error';
import { ValueTooLargeError } from '../src/errors/value-too-large.error';
import { CachekitKeyvStore } from '../src/interop/keyv-store';
import { CacheNamespace } from '../src/namespace/cache-namespace';
import { CacheModuleOptions } from '../src/options/cache-module-options.interface';

type KeyvClass = typeof Keyv;
const [nodeMajor, nodeMinor] = process.versions.node.split('.').map(Number);
const keyv6Runs = nodeMajor > 22 || (nodeMajor === 22 && nodeMinor >= 19);
const keyvMajors: [string, KeyvClass][] = [['Keyv 5', Keyv]];
// Loaded only where it runs: Keyv 6 declares Node >= 22.19.
// eslint-disable-next-line @typescript-eslint/no-require-imports
if (keyv6Runs) keyvMajors.push(['Keyv 6', (require('keyv6') as { Keyv: unknown }).Keyv as KeyvClass]);

/**
 * @keyv/test-suite is written against Vitest's API (`test.it(name, (t) => t.expect(…))`); this runs
 * it on Jest's. The suite (2.x) is written for Keyv 5's API; on Keyv 6 the cases that check a Keyv 5
 * API Keyv 6 changed are skipped, each named here with the change.
 */
const KEYV6_API_CHANGES: Record<string, string> = {
  '.deleteMany([keys]) with nonexistent keys resolves to false': 'Keyv 6 deleteMany resolves one boolean per key',
};
function onJest(major: string): Parameters<typeof keyvTestSuite>[0] {
  return {
    it: (name: string, fn: (context: { expect: typeof expect }) => unknown) => {
      const keyv6Change = major === 'Keyv 6' ? KEYV6_API_CHANGES[name] : undefined;
      if (keyv6Change !== undefined) return it.skip(`${name} (${keyv6Change})`, () => undefined);
      return it(name, async () => {
        await fn({ expect });
      });
    },
    beforeEach,
    afterEach,
    describe,
  } as unknown as Parameters<typeof keyvTestSuite>[0];
}

async function startCache(options: CacheModuleOptions): Promise<TestingModule> {
  const moduleRef = await Test.createTestingModule({ imports: [CacheModule.forRoot(options)] }).compile();
  return moduleRef.init();
}

describe.each(keyvMajors)('CachekitKeyvStore on a memory namespace (%s)', (major, Keyv) => {
  let moduleRef: TestingModule;
  let keyvNamespace: CacheNamespace;
  beforeAll(async () => {
    moduleRef = await startCache({ namespaces: { keyv: { maxEntries: 1_000 } } });
    keyvNamespace = moduleRef.get(CacheService).namespace('keyv');
  });
  afterAll(() => moduleRef.close());

  describe('@keyv/test-suite', () => {
    keyvTestSuite(onJest(major), Keyv, () => new CachekitKeyvStore(keyvNamespace));
  });

  it('stores through the cache namespace: entries are counted, bounded and visible to the namespace', async () => {
    const keyv = new Keyv({ store: new CachekitKeyvStore(keyvNamespace), namespace: 'app' });
    await keyv.set('user:1', { name: 'Ada' });
    expect(await keyvNamespace.has('app:user:1')).toBe(true);
    expect(keyvNamespace.stats().entries).toBeGreaterThanOrEqual(1);
    await keyvNamespace.invalidate('app:user:1');
    expect(await keyv.get('user:1')).toBeUndefined();
  });

  it('writes Keyv setMany in one all-or-nothing mset, reporting each entry', async () => {
    const keyv = new Keyv({ store: new CachekitKeyvStore(keyvNamespace), namespace: 'bulk' });
    const errors: unknown[] = [];
    keyv.on('error', (error: unknown) => errors.push(error)); // Keyv 6 reports the store's error here
    expect(await keyv.setMany([{ key: 'a', value: 1 }, { key: 'b', value: 2, ttl: 60_000 }])).toEqual([true, true]);
    expect(await keyv.get(['a', 'b'])).toEqual([1, 2]);
    const tooBig = 'x'.repeat(2 * 1024 * 1024);
    expect(await keyv.setMany([{ key: 'c', value: 3 }, { key: 'd', value: tooBig }])).toEqual([false, false]);
    expect(await keyvNamespace.has('bulk:c')).toBe(false);
    expect(errors.every((error) => error instanceof ValueTooLargeError)).toBe(true);
  });

  it('hands a bad key to Keyv as the typed error, storing nothing', async () => {
    const store = new CachekitKeyvStore(keyvNamespace);
    await expect(store.set('bad\u0000key', 'v')).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(store.get('')).rejects.toBeInstanceOf(InvalidKeyError);
  });

  it('refuses anything but a cache namespace', () => {
    expect(() => new CachekitKeyvStore({} as CacheNamespace)).toThrow(/needs a cache namespace/);
  });

  it('runs cache-manager 7 unchanged, each entry in our backend', async () => {
    const manager = createCache({ stores: [new Keyv({ store: new CachekitKeyvStore(keyvNamespace) })] });
    await manager.set('track:9', { title: 'Blue' }, 60_000);
    expect(await manager.get('track:9')).toEqual({ title: 'Blue' });
    // Keyv 5 names its default namespace `keyv`; Keyv 6 has none.
    const key = major === 'Keyv 5' ? 'keyv:track:9' : 'track:9';
    expect(await keyvNamespace.has(key)).toBe(true);
    await manager.del('track:9');
    expect(await keyvNamespace.has(key)).toBe(false);
  });
});

describe.each(keyvMajors)('CachekitKeyvStore on a Redis namespace, real redis-server (%s)', (major, Keyv) => {
  let moduleRef: TestingModule;
  let keyvNamespace: CacheNamespace;
  const redis = useRedisServer({ beforeStop: () => moduleRef.close() });
  beforeAll(async () => {
    moduleRef = await startCache({ redis: { url: redis.server.url }, namespaces: { keyv: { backend: 'redis' }, other: { backend: 'redis' } } });
    keyvNamespace = moduleRef.get(CacheService).namespace('keyv');
  });

  describe('@keyv/test-suite', () => {
    keyvTestSuite(onJest(major), Keyv, () => new CachekitKeyvStore(keyvNamespace));
  });

  it('writes under the namespace prefix with the Keyv TTL as PX', async () => {
    const keyv = new Keyv({ store: new CachekitKeyvStore(keyvNamespace), namespace: 'app' });
    await keyv.set('session:7', 'token', 60_000);
    const ttl = await redis.admin.pttl('cache:{keyv}:app:session:7');
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('clears one Keyv namespace only, and nothing of another cache namespace', async () => {
    const other = moduleRef.get(CacheService).namespace('other');
    await other.set('app:x', 'kept');
    const a = new Keyv({ store: new CachekitKeyvStore(keyvNamespace), namespace: 'a' });
    const b = new Keyv({ store: new CachekitKeyvStore(keyvNamespace), namespace: 'b' });
    await a.set('x', 1);
    await b.set('x', 2);
    await a.clear();
    expect(await a.get('x')).toBeUndefined();
    expect(await b.get('x')).toBe(2);
    expect(await other.get('app:x')).toBe('kept');
  });
});

if (!keyv6Runs) {
  describe.skip(`CachekitKeyvStore on Keyv 6 (needs Node >= 22.19, this is ${process.version})`, () => {
    it('runs on Node 22.19 or later', () => undefined);
  });
}
