/**
 * Binary payloads and the xchacha20-poly1305 provider against a real redis-server: what lands in
 * Redis (a frame of bytes, no base64, no plaintext), and every kind of bad entry written straight
 * into Redis as bytes (altered, truncated, cut to its frame, an unknown frame version, an unsealed
 * frame, sealed with an unknown key or another key under our id, copied from another key or
 * namespace, an AES-256-GCM frame, plaintext) is a miss, deleted only if unchanged, counted, a
 * `tamper` event and an audit record. Then key rotation with re-encrypt-on-read in the binary format,
 * tiered namespaces (the envelope in the AAD), and the earlier text format still read.
 */
import { Test, TestingModule } from '@nestjs/testing';
import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { useRedisServer } from '../../../test/support/redis-server';
import { AuditRecord } from '../src/audit/audit-record';
import { AuditSink } from '../src/audit/audit-sink';
import { RedisBackend } from '../src/backends/redis/redis-backend';
import { defineCacheScripts } from '../src/backends/redis/redis-scripts';
import { CacheModule } from '../src/cache.module';
import { CacheService } from '../src/cache.service';
import { CacheEventMap } from '../src/events/cache-events';
import { CacheModuleOptions } from '../src/options/cache-module-options.interface';
import { AesGcmEncryptionProvider } from '../src/security/aes-gcm-encryption-provider';
import { XChaCha20Poly1305EncryptionProvider } from '../src/security/xchacha20-poly1305-encryption-provider';

const newKey = (): string => randomBytes(32).toString('base64');
const K1 = newKey();
const K2 = newKey();
const BUS_SECRET = randomBytes(32).toString('base64');
const XCHACHA = 'xchacha20-poly1305';

interface StartedCache { moduleRef: TestingModule; cache: CacheService; audit: AuditRecord[] }

async function startCache(options: CacheModuleOptions): Promise<StartedCache> {
  const audit: AuditRecord[] = [];
  const sink: AuditSink = { write: (record) => void audit.push(record) };
  const moduleRef = await Test.createTestingModule({ imports: [CacheModule.forRoot({ ...options, audit: { sink, keyHashSecret: BUS_SECRET } })] }).compile();
  await moduleRef.init();
  return { moduleRef, cache: moduleRef.get(CacheService), audit };
}

/** A frame around `body`: mark, version. */
const frame = (body: Buffer, version = 0x01): Buffer => Buffer.concat([Buffer.from([0xc1, version]), body]);

describe('Binary payloads with xchacha20-poly1305 on a real redis-server', () => {
  const redis = useRedisServer({ flushBeforeEach: true });
  let started: StartedCache;
  let tampers: CacheEventMap['tamper'][];
  const raw = (key: string): Promise<Buffer | null> => redis.admin.getBuffer(`cache:{users}:${key}`);

  beforeEach(async () => {
    started = await startCache({
      redis: { url: redis.server.url },
      namespaces: {
        users: { backend: 'redis', ttl: '1h', encryption: { provider: XCHACHA, keys: [{ id: 'k1', key: K1 }] } },
        admins: { backend: 'redis', encryption: { provider: XCHACHA, keys: [{ id: 'k1', key: K1 }] } },
        gcm: { backend: 'redis', payloadFormat: 'binary', encryption: { keys: [{ id: 'k1', key: K1 }] } },
      },
    });
    tampers = [];
    started.cache.events.on('tamper', (e) => tampers.push(e));
  });
  afterEach(() => started.moduleRef.close());

  it('stores a frame of bytes (no base64, no plaintext) and round-trips get, batched gets, mget, getOrSet and tags', async () => {
    const users = started.cache.namespace('users');
    const value = { name: 'Zoë', history: ['Blue in Green'] };
    await users.set('u1', value);
    const stored = (await raw('u1'))!;
    const text = JSON.stringify(value);
    expect([stored[0], stored[1]]).toEqual([0xc1, 0x01]);
    expect(stored[2]).toBe(0x02); // the provider's own version byte
    expect(stored.length).toBe(2 + 2 + 2 + 24 + 1 + Buffer.byteLength(text) + 16);
    expect(stored.includes(Buffer.from('Blue in Green'))).toBe(false);
    expect(await users.get('u1')).toEqual(value);
    await users.mset<unknown>([{ key: 'a', value: 1 }, { key: 'b', value: new Date(5), tags: ['t'] }]);
    expect(await Promise.all(['a', 'b', 'x'].map((k) => users.get(k)))).toEqual([1, new Date(5), undefined]);
    expect(await users.mget(['a', 'b', 'x'])).toEqual([1, new Date(5), undefined]);
    expect(await users.getOrSet('c', () => 'loaded')).toBe('loaded');
    expect(await users.get('c')).toBe('loaded');
    expect(await users.invalidateTag('t')).toBe(1);
    expect(await users.get('b')).toBeUndefined();
    const gcm = started.cache.namespace('gcm');
    await gcm.set('g', value);
    const sealed = (await redis.admin.getBuffer('cache:{gcm}:g'))!;
    expect([sealed[0], sealed[1], sealed[2]]).toEqual([0xc1, 0x01, 0x01]);
    expect(await gcm.get('g')).toEqual(value);
    expect(users.stats()).toMatchObject({ tamperDetected: 0 });
  });

  const bad: [string, (good: Buffer) => Promise<void>, string][] = [
    ['with a byte of the ciphertext altered', async (good) => {
      const bytes = Buffer.from(good);
      bytes[bytes.length - 20] ^= 0x04;
      await redis.admin.set('cache:{users}:victim', bytes);
    }, 'authentication-failed'],
    ['with a byte of the nonce altered', async (good) => {
      const bytes = Buffer.from(good);
      bytes[8] ^= 0x80;
      await redis.admin.set('cache:{users}:victim', bytes);
    }, 'authentication-failed'],
    ['truncated', async (good) => { await redis.admin.set('cache:{users}:victim', good.subarray(0, good.length - 10)); }, 'authentication-failed'],
    ['cut short to its frame and seal header', async (good) => { await redis.admin.set('cache:{users}:victim', good.subarray(0, 8)); }, 'malformed'],
    ['of an unknown frame version', async (good) => { await redis.admin.set('cache:{users}:victim', frame(good.subarray(2), 0x09)); }, 'unknown-version'],
    ['an unsealed frame (plaintext inside a frame)', async () => {
      await redis.admin.set('cache:{users}:victim', frame(Buffer.concat([Buffer.from([0]), Buffer.from('{"role":"admin"}')])));
    }, 'unknown-version'],
    ['sealed with a key this app does not have', async () => {
      const foreign = new XChaCha20Poly1305EncryptionProvider({ keys: [{ id: 'elsewhere', key: newKey() }] });
      await redis.admin.set('cache:{users}:victim', frame(foreign.encryptBytes(Buffer.from('\u0000"forged"'), { namespace: 'users', key: 'victim' })));
    }, 'unknown-key'],
    ['sealed with another key under our key id', async () => {
      const impostor = new XChaCha20Poly1305EncryptionProvider({ keys: [{ id: 'k1', key: newKey() }] });
      await redis.admin.set('cache:{users}:victim', frame(impostor.encryptBytes(Buffer.from('\u0000"forged"'), { namespace: 'users', key: 'victim' })));
    }, 'authentication-failed'],
    ['sealed by AES-256-GCM with our own key (another provider)', async () => {
      const gcm = new AesGcmEncryptionProvider({ keys: [{ id: 'k1', key: K1 }] });
      await redis.admin.set('cache:{users}:victim', frame(gcm.encryptBytes(Buffer.from('\u0000"forged"'), { namespace: 'users', key: 'victim' })));
    }, 'unknown-version'],
    ['copied from another key of the namespace', async () => { await redis.admin.copy('cache:{users}:donor', 'cache:{users}:victim', 'REPLACE'); }, 'authentication-failed'],
    ['copied from the same key of another namespace', async () => {
      await started.cache.namespace('admins').set('victim', { role: 'admin' });
      await redis.admin.copy('cache:{admins}:victim', 'cache:{users}:victim', 'REPLACE');
    }, 'authentication-failed'],
    ['plaintext JSON (written unencrypted, or by another program)', async () => { await redis.admin.set('cache:{users}:victim', '{"role":"admin"}'); }, 'malformed'],
    ['bytes that are not UTF-8 and not a frame', async () => { await redis.admin.set('cache:{users}:victim', Buffer.from([0xff, 0xfe, 0x41, 0x80, 0x42])); }, 'malformed'],
    ['the base64url text of a seal made for another key', async (good) => {
      const other = new XChaCha20Poly1305EncryptionProvider({ keys: [{ id: 'k1', key: K1 }] });
      await redis.admin.set('cache:{users}:victim', other.encrypt('"forged"', { namespace: 'users', key: 'donor' }));
      expect(good.length).toBeGreaterThan(0);
    }, 'authentication-failed'],
  ];

  it.each(bad)('an entry %s is never returned: a miss, deleted, counted, a tamper event and an audit record', async (_what, plant, reason) => {
    const users = started.cache.namespace('users');
    await users.set('victim', { role: 'listener' });
    await users.set('donor', { role: 'admin' });
    await plant((await raw('victim'))!);
    expect(await users.get('victim')).toBeUndefined();
    expect(await redis.admin.exists('cache:{users}:victim')).toBe(0);
    expect(tampers).toEqual([{ namespace: 'users', key: 'victim', reason }]);
    expect(users.stats()).toMatchObject({ tamperDetected: 1, misses: 1, hits: 0 });
    expect(started.audit.filter((r) => r.action === 'tamper')).toEqual([expect.objectContaining({ namespace: 'users', outcome: 'detected', detail: { reason } })]);
    expect(await users.get('donor')).toEqual({ role: 'admin' });
  });

  it('treats tampered entries in batched gets and mget the same way', async () => {
    const users = started.cache.namespace('users');
    await users.mset([{ key: 'a', value: 'A' }, { key: 'b', value: 'B' }, { key: 'c', value: 'C' }]);
    await redis.admin.copy('cache:{users}:a', 'cache:{users}:b', 'REPLACE');
    await redis.admin.copy('cache:{users}:a', 'cache:{users}:c', 'REPLACE');
    expect(await users.mget(['a', 'b'])).toEqual(['A', undefined]);
    expect(await Promise.all([users.get('a'), users.get('c')])).toEqual(['A', undefined]);
    expect(tampers.map((t) => t.key)).toEqual(['b', 'c']);
    expect(await redis.admin.exists('cache:{users}:b', 'cache:{users}:c')).toBe(0);
  });

  it('drops a bad binary entry only if it still holds the bytes that were read', async () => {
    const client = defineCacheScripts(new Redis(redis.server.port, '127.0.0.1'));
    try {
      const backend = new RedisBackend(client, 'cache:{race}:', 'race', 4096, true);
      const read = frame(randomBytes(40));
      await backend.set('k', read, 0);
      expect(await backend.get('k')).toEqual(read);
      await backend.set('k', frame(randomBytes(40)), 0); // a newer write lands after the read
      expect(await backend.deleteIfUnchanged('k', read)).toBe(false);
      expect(await redis.admin.exists('cache:{race}:k')).toBe(1);
      const current = (await backend.get('k')) as Buffer;
      expect(await backend.deleteIfUnchanged('k', current)).toBe(true);
      expect(await redis.admin.exists('cache:{race}:k')).toBe(0);
    } finally {
      client.disconnect();
    }
  });

  it('reads entries of the text format (base64url seals) written by this provider, and writes binary from then on', async () => {
    const users = started.cache.namespace('users');
    const text = new XChaCha20Poly1305EncryptionProvider({ keys: [{ id: 'k1', key: K1 }] }).encrypt('{"n":1}', { namespace: 'users', key: 'old' });
    await redis.admin.set('cache:{users}:old', text);
    expect(await users.get('old')).toEqual({ n: 1 });
    expect(await users.mget(['old'])).toEqual([{ n: 1 }]);
    await users.set('old', { n: 2 });
    expect((await raw('old'))![0]).toBe(0xc1);
    expect(tampers).toEqual([]);
  });
});

describe('Compression on a real redis-server', () => {
  const redis = useRedisServer({ flushBeforeEach: true });

  it('compresses before sealing (the coding byte is inside the seal), above the threshold only, and reads back', async () => {
    const started = await startCache({
      redis: { url: redis.server.url },
      namespaces: { docs: { backend: 'redis', compression: { algorithm: 'brotli', thresholdBytes: 2048 }, encryption: { provider: XCHACHA, keys: [{ id: 'k1', key: K1 }] } } },
    });
    try {
      const docs = started.cache.namespace('docs');
      const doc = { items: Array.from({ length: 600 }, (_, i) => ({ id: i, title: `track ${i}`, artist: 'Miles Davis', tags: ['jazz', 'modal'] })) };
      const text = JSON.stringify(doc);
      await docs.set('big', doc);
      await docs.set('small', { id: 1 });
      const provider = new XChaCha20Poly1305EncryptionProvider({ keys: [{ id: 'k1', key: K1 }] });
      const open = async (key: string): Promise<Buffer> => {
        const stored = (await redis.admin.getBuffer(`cache:{docs}:${key}`))!;
        expect(stored[0]).toBe(0xc1);
        return Buffer.from(provider.decryptBytes(stored.subarray(2), { namespace: 'docs', key }).plaintext);
      };
      const big = (await redis.admin.getBuffer('cache:{docs}:big'))!;
      expect(big.length).toBeLessThan(Buffer.byteLength(text) / 5);
      expect((await open('big'))[0]).toBe(2);
      expect((await open('small'))[0]).toBe(0);
      expect(await docs.get('big')).toEqual(doc);
      expect(await docs.mget(['big', 'small'])).toEqual([doc, { id: 1 }]);
    } finally {
      await started.moduleRef.close();
    }
  });
});

describe('Binary payloads: key rotation and tiers', () => {
  const redis = useRedisServer({ flushBeforeEach: true });
  const keyIdOf = (stored: Buffer): string => stored.toString('latin1', 4, 4 + stored[3]);
  const single = (keys: { id: string; key: string }[], reencryptOnRead: boolean): CacheModuleOptions => ({
    redis: { url: redis.server.url },
    namespaces: { users: { backend: 'redis', ttl: '1h', encryption: { provider: XCHACHA, keys, reencryptOnRead } } },
  });

  it('re-seals an entry of an older key in the binary format, keeping its TTL and tags; reports keyRotated and audits it', async () => {
    const before = await startCache(single([{ id: 'k1', key: K1 }], false));
    await before.cache.namespace('users').set('u1', { n: 1 }, { tags: ['artist:7'] });
    await before.moduleRef.close();
    await redis.admin.pexpire('cache:{users}:u1', 1_000_000);
    const after = await startCache(single([{ id: 'k2', key: K2 }, { id: 'k1', key: K1 }], true));
    try {
      const rotations: CacheEventMap['keyRotated'][] = [];
      after.cache.events.on('keyRotated', (e) => rotations.push(e));
      const users = after.cache.namespace('users');
      expect(await users.get('u1')).toEqual({ n: 1 });
      const resealed = (await redis.admin.getBuffer('cache:{users}:u1'))!;
      expect(resealed[0]).toBe(0xc1);
      expect(keyIdOf(resealed)).toBe('k2');
      expect(await redis.admin.pttl('cache:{users}:u1')).toBeGreaterThan(900_000);
      expect(rotations).toEqual([{ namespace: 'users', key: 'u1', fromKeyId: 'k1', toKeyId: 'k2' }]);
      expect(after.audit.some((r) => r.action === 'keyRotation')).toBe(true);
      expect(await users.get('u1')).toEqual({ n: 1 });
      expect((await redis.admin.getBuffer('cache:{users}:u1'))!.equals(resealed)).toBe(true);
      expect(await users.invalidateTag('artist:7')).toBe(1);
    } finally {
      await after.moduleRef.close();
    }
  });

  it('tiers: the L2 payload is the envelope then a frame; another instance opens it; a forged expiry or a stripped envelope is a tamper', async () => {
    const options: CacheModuleOptions = {
      redis: { url: redis.server.url },
      bus: { secret: BUS_SECRET },
      namespaces: { users: { backend: 'redis', ttl: '1h', l1: {}, encryption: { provider: XCHACHA, keys: [{ id: 'k1', key: K1 }] } } },
    };
    const a = await startCache(options);
    const b = await startCache(options);
    try {
      const tampers: string[] = [];
      b.cache.events.on('tamper', (e) => tampers.push(`${e.key}:${e.reason}`));
      await a.cache.namespace('users').set('u1', { history: ['So What'] });
      await a.cache.namespace('users').set('short', 1, { ttl: '1s' });
      await a.cache.namespace('users').set('stripped', 2);
      const stored = (await redis.admin.getBuffer('cache:{users}:u1'))!;
      const end = stored.indexOf(0x1e, 1);
      expect(stored[0]).toBe(0x1e);
      expect(stored[end + 1]).toBe(0xc1);
      expect(stored.includes(Buffer.from('So What'))).toBe(false);
      expect(await b.cache.namespace('users').get('u1')).toEqual({ history: ['So What'] });
      const short = (await redis.admin.getBuffer('cache:{users}:short'))!;
      const body = short.subarray(short.indexOf(0x1e, 1) + 1);
      await redis.admin.set('cache:{users}:short', Buffer.concat([Buffer.from(`\u001e${(Date.now() + 365 * 86_400_000).toString(36)}\u001e`, 'latin1'), body]), 'KEEPTTL');
      const stripped = (await redis.admin.getBuffer('cache:{users}:stripped'))!;
      await redis.admin.set('cache:{users}:stripped', stripped.subarray(stripped.indexOf(0x1e, 1) + 1), 'KEEPTTL');
      expect(await b.cache.namespace('users').get('short')).toBeUndefined();
      expect(await b.cache.namespace('users').get('stripped')).toBeUndefined();
      expect(tampers).toEqual(['short:authentication-failed', 'stripped:authentication-failed']);
      expect(await redis.admin.exists('cache:{users}:short', 'cache:{users}:stripped')).toBe(0);
    } finally {
      await a.moduleRef.close();
      await b.moduleRef.close();
    }
  });
});
