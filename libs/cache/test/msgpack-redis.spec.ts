/**
 * The msgpack serializer against a real redis-server: what lands in Redis (a frame flagged as a byte
 * serializer's, MessagePack inside, sealed or not), bad MessagePack written straight into Redis under
 * an unsealed and a sealed namespace (a miss, the entry deleted, counted as unreadable; a tamper when
 * it does not authenticate), entries of the other serializer under the same namespace (an app whose
 * configuration changed) a miss and deleted both ways, tiers, and the refusal at start-up where a
 * namespace cannot store bytes.
 */
import { Test, TestingModule } from '@nestjs/testing';
import { Packr } from 'msgpackr';
import { randomBytes } from 'node:crypto';
import * as zlib from 'node:zlib';
import { useRedisServer } from '../../../test/support/redis-server';
import { CacheModule } from '../src/cache.module';
import { CacheService } from '../src/cache.service';
import { InvalidOptionsError } from '../src/errors/invalid-options.error';
import { CacheEventMap } from '../src/events/cache-events';
import { CacheModuleOptions, NamespaceOptions } from '../src/options/cache-module-options.interface';
import { NamespaceEncryptionOptions } from '../src/security/encryption-options';
import { XChaCha20Poly1305EncryptionProvider } from '../src/security/xchacha20-poly1305-encryption-provider';
import { MsgpackSerializer } from '../src/serialization/msgpack-serializer';
import { TaggedJsonSerializer } from '../src/serialization/tagged-json-serializer';
import { MapBackendFactory } from './map-backend.fixture';

const K1 = randomBytes(32).toString('base64');
const BUS_SECRET = randomBytes(32).toString('base64');
const XCHACHA = 'xchacha20-poly1305' as const;
const sealing: NamespaceEncryptionOptions = { provider: XCHACHA, keys: [{ id: 'k1', key: K1 }] };

interface StartedCache { moduleRef: TestingModule; cache: CacheService }

async function startCache(options: CacheModuleOptions): Promise<StartedCache> {
  const moduleRef = await Test.createTestingModule({ imports: [CacheModule.forRoot(options)] }).compile();
  await moduleRef.init();
  return { moduleRef, cache: moduleRef.get(CacheService) };
}

/** MessagePack as something other than the serializer writes it (no checks, no tags). */
const raw = new Packr({ useRecords: false, moreTypes: true, variableMapSize: true });
const FLAG = 0x10;
/** A frame around `inner` (coding byte and data), sealed for `namespace`/`key` when asked. */
function plantedFrame(inner: Buffer, seal?: { namespace: string; key: string }): Buffer {
  const body = seal === undefined ? inner : new XChaCha20Poly1305EncryptionProvider({ keys: [{ id: 'k1', key: K1 }] }).encryptBytes(inner, seal);
  return Buffer.concat([Buffer.from([0xc1, 0x01]), body]);
}
const flagged = (data: Buffer | Uint8Array, coding = FLAG): Buffer => Buffer.concat([Buffer.from([coding]), data]);
const nest = (depth: number): unknown => {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
};

describe('MsgpackSerializer on a real redis-server', () => {
  const redis = useRedisServer({ flushBeforeEach: true });
  let started: StartedCache;
  let tampers: CacheEventMap['tamper'][];
  const stored = (ns: string, key: string): Promise<Buffer | null> => redis.admin.getBuffer(`cache:{${ns}}:${key}`);

  beforeEach(async () => {
    started = await startCache({
      redis: { url: redis.server.url },
      namespaces: {
        plain: { backend: 'redis', serializer: new MsgpackSerializer(), maxValueBytes: 4096 },
        sealed: { backend: 'redis', serializer: new MsgpackSerializer(), maxValueBytes: 4096, encryption: sealing },
      },
    });
    tampers = [];
    started.cache.events.on('tamper', (e) => tampers.push(e));
  });
  afterEach(() => started.moduleRef.close());

  it('stores MessagePack in a flagged frame (sealed: no plaintext) and round-trips get, batched gets, mget and getOrSet', async () => {
    const value = { name: 'Zoë', at: new Date(7), plays: 12n, tags: new Set(['jazz']), byDay: new Map([[1, 'Blue in Green']]), cover: Buffer.from([1, 2, 3]) };
    for (const name of ['plain', 'sealed']) {
      const ns = started.cache.namespace(name);
      await ns.set('u1', value);
      expect(await ns.get('u1')).toEqual(value);
      await ns.mset<unknown>([{ key: 'a', value: 1 }, { key: 'b', value: [undefined, -0] }]);
      expect(await Promise.all(['a', 'b', 'x'].map((k) => ns.get(k)))).toEqual([1, [undefined, -0], undefined]);
      expect(await ns.mget(['u1', 'a', 'x'])).toEqual([value, 1, undefined]);
      expect(await ns.getOrSet('c', () => ({ loaded: true }))).toEqual({ loaded: true });
      expect(await ns.get('c')).toEqual({ loaded: true });
    }
    const plain = (await stored('plain', 'u1'))!;
    expect([...plain.subarray(0, 3)]).toEqual([0xc1, 0x01, FLAG]);
    expect(plain.subarray(3)).toEqual(Buffer.from(new MsgpackSerializer().serializeBytes(value)));
    const sealed = (await stored('sealed', 'u1'))!;
    expect([sealed[0], sealed[1], sealed[2]]).toEqual([0xc1, 0x01, 0x02]); // the provider's own version byte follows the frame
    expect(sealed.includes(Buffer.from('Blue in Green'))).toBe(false);
    expect(started.cache.namespace('sealed').stats()).toMatchObject({ tamperDetected: 0, unreadableDropped: 0 });
  });

  /** Bad data (a coding byte and what follows), each planted in the unsealed namespace as it is and in the sealed one sealed with its key. */
  const bad: [string, () => Buffer][] = [
    ['garbage', () => flagged(Buffer.from([0xc1, 0xff, 0x00]))],
    ['truncated MessagePack', () => flagged(raw.pack({ role: 'admin', list: [1, 2, 3] }).subarray(0, 8))],
    ['MessagePack with trailing bytes', () => flagged(Buffer.concat([raw.pack({ role: 'admin' }), Buffer.from([0x01])]))],
    ['a "__proto__" key', () => flagged(raw.pack(JSON.parse('{"user":{"__proto__":{"isAdmin":true}}}')))],
    ['a "constructor" key', () => flagged(raw.pack({ constructor: { prototype: { isAdmin: true } } }))],
    ['nesting deeper than 256 levels', () => flagged(raw.pack(nest(300)))],
    ['an Error (a type the serializer never writes)', () => flagged(raw.pack(new Error('boom')))],
    ['a tagged-JSON frame (no byte-serializer flag)', () => flagged(Buffer.from('{"role":"admin"}'), 0x00)],
    ['an unknown coding', () => flagged(raw.pack({ role: 'admin' }), 0x1f)],
    ['a gzip stream that inflates past maxValueBytes', () => flagged(zlib.gzipSync(raw.pack('z'.repeat(100_000))), FLAG | 1)],
  ];

  it.each(bad)('unsealed namespace, %s: a miss, the entry deleted, counted as unreadable', async (_what, inner) => {
    const ns = started.cache.namespace('plain');
    await ns.set('victim', { role: 'listener' });
    await redis.admin.set('cache:{plain}:victim', plantedFrame(inner()));
    expect(await ns.get('victim')).toBeUndefined();
    expect(await redis.admin.exists('cache:{plain}:victim')).toBe(0);
    expect(ns.stats()).toMatchObject({ unreadableDropped: 1, misses: 1, hits: 0 });
    expect(Object.prototype).not.toHaveProperty('isAdmin');
  });

  it.each(bad)('sealed namespace, %s sealed with its own key: a miss, the entry deleted, counted as unreadable', async (_what, inner) => {
    const ns = started.cache.namespace('sealed');
    await redis.admin.set('cache:{sealed}:victim', plantedFrame(inner(), { namespace: 'sealed', key: 'victim' }));
    expect(await ns.get('victim')).toBeUndefined();
    expect(await redis.admin.exists('cache:{sealed}:victim')).toBe(0);
    expect(ns.stats()).toMatchObject({ unreadableDropped: 1, tamperDetected: 0, misses: 1 });
    expect(Object.prototype).not.toHaveProperty('isAdmin');
  });

  it('sealed namespace: unsealed MessagePack planted there (frame or bare) is a tamper or unreadable, a miss either way, and deleted', async () => {
    const ns = started.cache.namespace('sealed');
    await redis.admin.set('cache:{sealed}:frame', plantedFrame(flagged(raw.pack({ role: 'admin' }))));
    await redis.admin.set('cache:{sealed}:bare', raw.pack({ role: 'admin' }));
    expect(await ns.mget(['frame', 'bare'])).toEqual([undefined, undefined]);
    expect(await redis.admin.exists('cache:{sealed}:frame', 'cache:{sealed}:bare')).toBe(0);
    expect(tampers.map((t) => t.key)).toEqual(['frame']);
    expect(ns.stats()).toMatchObject({ tamperDetected: 1, unreadableDropped: 1 });
  });

  it.each<[string, NamespaceEncryptionOptions | undefined]>([['unsealed', undefined], ['sealed', sealing]])(
    '%s: after a change of serializer, entries of the other one are a miss and deleted (both ways)', async (_what, encryption) => {
      const options = (serializer: NamespaceOptions['serializer']): CacheModuleOptions => ({
        redis: { url: redis.server.url },
        namespaces: { songs: { backend: 'redis', payloadFormat: 'binary', serializer, ...(encryption && { encryption }) } },
      });
      const json = await startCache(options(new TaggedJsonSerializer()));
      const msgpack = await startCache(options(new MsgpackSerializer()));
      try {
        await json.cache.namespace('songs').set('old', { title: 'So What' });
        await msgpack.cache.namespace('songs').set('new', { title: 'Freddie Freeloader' });
        expect(await msgpack.cache.namespace('songs').get('old')).toBeUndefined();
        expect(await json.cache.namespace('songs').get('new')).toBeUndefined();
        expect(await redis.admin.exists('cache:{songs}:old', 'cache:{songs}:new')).toBe(0);
        for (const app of [msgpack, json]) {
          const stats = app.cache.namespace('songs').stats();
          expect(stats.unreadableDropped).toBe(1);
          expect(stats.tamperDetected ?? 0).toBe(0);
        }
      } finally {
        await json.moduleRef.close();
        await msgpack.moduleRef.close();
      }
    },
  );

  it('tiers: the L2 payload is the envelope then the sealed msgpack frame, and another instance reads it', async () => {
    const options: CacheModuleOptions = {
      redis: { url: redis.server.url },
      bus: { secret: BUS_SECRET },
      namespaces: { users: { backend: 'redis', ttl: '1h', l1: {}, serializer: new MsgpackSerializer(), encryption: sealing } },
    };
    const a = await startCache(options);
    const b = await startCache(options);
    try {
      const value = { history: new Map([['So What', 3n]]) };
      await a.cache.namespace('users').set('u1', value);
      const l2 = (await stored('users', 'u1'))!;
      expect(l2[0]).toBe(0x1e);
      expect(l2[l2.indexOf(0x1e, 1) + 1]).toBe(0xc1);
      expect(await b.cache.namespace('users').get('u1')).toEqual(value);
    } finally {
      await a.moduleRef.close();
      await b.moduleRef.close();
    }
  });

  it('is refused at start-up on a backend that stores strings, naming the serializer field', async () => {
    await expect(startCache({ backends: { map: new MapBackendFactory() }, namespaces: { songs: { backend: 'map', serializer: new MsgpackSerializer() } } }))
      .rejects.toThrow(InvalidOptionsError);
    await expect(startCache({ backends: { map: new MapBackendFactory() }, namespaces: { songs: { backend: 'map', serializer: new MsgpackSerializer() } } }))
      .rejects.toThrow(/namespaces\.songs\.serializer: "msgpack" writes bytes and needs binary payloads/);
  });
});
