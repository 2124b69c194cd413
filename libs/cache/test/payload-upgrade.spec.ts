/**
 * An upgrade needs no flush: entries written to Redis by the library before binary payloads,
 * compression and the xchacha20-poly1305 provider (captured in fixtures/payload-upgrade by its
 * generate.js: plain, AES-256-GCM, Fernet with and without bindContext, a tiered AES-256-GCM
 * namespace) are planted byte for byte in a fresh Redis and read by the current code, through a
 * single get (GETRANGE) and a batched one (MGET), with nothing counted as tampered or dropped.
 */
import { Test, TestingModule } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { useRedisServer } from '../../../test/support/redis-server';
import { CacheModule } from '../src/cache.module';
import { CacheService } from '../src/cache.service';
import { CacheModuleOptions } from '../src/options/cache-module-options.interface';
import { TaggedJsonSerializer } from '../src/serialization/tagged-json-serializer';

interface UpgradeFixture { keys: { aes: string; fernet: string }; namespaces: string[]; values: string; entries: Record<string, string> }
const fixture = JSON.parse(readFileSync(join(__dirname, 'fixtures/payload-upgrade/upgrade-entries.json'), 'utf8')) as UpgradeFixture;

const values = new TaggedJsonSerializer().deserialize(fixture.values) as Record<string, unknown>;
const names = Object.keys(values);

/** The namespaces as the fixture's writer configured them (today's defaults everywhere else). */
export function upgradeNamespaces(): NonNullable<CacheModuleOptions['namespaces']> {
  const aes = { keys: [{ id: 'k1', key: fixture.keys.aes }] };
  const fernet = { provider: 'fernet', keys: [{ key: fixture.keys.fernet }] };
  return {
    aes: { backend: 'redis', encryption: aes },
    fernet: { backend: 'redis', encryption: fernet },
    fernetBound: { backend: 'redis', encryption: { ...fernet, bindContext: true } },
    plain: { backend: 'redis' },
    tiered: { backend: 'redis', l1: { maxEntries: 100 }, encryption: aes },
  };
}

describe('Entries written by the previous payload format', () => {
  const redis = useRedisServer({ flushBeforeEach: true });
  let moduleRef: TestingModule;

  async function start(namespaces: NonNullable<CacheModuleOptions['namespaces']>): Promise<CacheService> {
    for (const [key, bytes] of Object.entries(fixture.entries)) await redis.admin.set(key, Buffer.from(bytes, 'base64'));
    moduleRef = await Test.createTestingModule({
      imports: [CacheModule.forRoot({ redis: { url: redis.server.url }, bus: { secret: randomBytes(32).toString('base64') }, namespaces })],
    }).compile();
    await moduleRef.init();
    return moduleRef.get(CacheService);
  }
  afterEach(() => moduleRef?.close());

  it.each(fixture.namespaces)('namespace "%s": every entry reads, one at a time and batched', async (namespace) => {
    const cache = await start(upgradeNamespaces());
    const ns = cache.namespace(namespace);
    for (const name of names) expect(await ns.get(name)).toEqual(values[name]);
    expect(await Promise.all(names.map((name) => ns.get(name)))).toEqual(names.map((name) => values[name]));
    expect(await ns.mget(names)).toEqual(names.map((name) => values[name]));
    expect(ns.stats()).toMatchObject({ unreadableDropped: 0 });
    if (namespace !== 'plain') expect(ns.stats().tamperDetected).toBe(0);
  });

  it.each(fixture.namespaces.filter((n) => !n.startsWith('fernet')))('namespace "%s" switched to binary payloads (and compression where unsealed) still reads every entry, then writes the new format', async (namespace) => {
    const upgraded = upgradeNamespaces();
    for (const name of ['aes', 'tiered']) upgraded[name] = { ...upgraded[name], payloadFormat: 'binary' };
    upgraded.plain = { ...upgraded.plain, compression: { algorithm: 'gzip', thresholdBytes: 100 } };
    const cache = await start(upgraded);
    const ns = cache.namespace(namespace);
    for (const name of names) expect(await ns.get(name)).toEqual(values[name]);
    expect(await ns.mget(names)).toEqual(names.map((name) => values[name]));
    expect(ns.stats()).toMatchObject({ unreadableDropped: 0 });
    if (namespace !== 'plain') expect(ns.stats().tamperDetected).toBe(0);
    await ns.set('big', values.big);
    const stored = (await redis.admin.getBuffer(`cache:{${namespace}}:big`))!;
    expect(stored[namespace === 'tiered' ? stored.indexOf(0x1e, 1) + 1 : 0]).toBe(0xc1);
    expect(await ns.get('big')).toEqual(values.big);
  });
});
