import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { MapBackendFactory } from '../../test/map-backend.fixture';
import { CacheBackend } from '../backends/cache-backend.interface';
import { ValueTooLargeError } from '../errors/value-too-large.error';
import { NamespaceOptions } from '../options/cache-module-options.interface';
import { resolveCacheOptions } from '../options/resolve-cache-options';
import { ResolvedNamespaceOptions } from '../options/resolved-namespace-options';
import { AesGcmEncryptionProvider } from '../security/aes-gcm-encryption-provider';
import { EncryptionProvider } from '../security/encryption-provider.interface';
import { FernetEncryptionProvider } from '../security/fernet-encryption-provider';
import { Fernet } from '../security/fernet/fernet';
import { CacheNamespace } from '../namespace/cache-namespace';
import { MsgpackSerializer } from '../serialization/msgpack-serializer';
import { overByteLimit } from '../serialization/over-byte-limit';
import { TaggedJsonSerializer } from '../serialization/tagged-json-serializer';
import { FRAME_OVERHEAD } from './payload-frame';
import { maxPayloadBytes, maxStoredBytes, TIER_ENVELOPE_MAX_BYTES } from './payload-limits';

const KIB = 1024;

function optionsFor(settings: NamespaceOptions): ResolvedNamespaceOptions {
  return resolveCacheOptions({ backends: { map: new MapBackendFactory() }, namespaces: { users: { backend: 'map', ...settings } } }).namespaces.get('users')!;
}

describe('maxStoredBytes / maxPayloadBytes', () => {
  it('is maxValueBytes without encryption, plus the envelope allowance for tiers', () => {
    expect(maxStoredBytes({ name: 'users', maxValueBytes: 4 * KIB, maxKeyLength: 1024 })).toBe(4 * KIB);
    expect(maxPayloadBytes({ name: 'users', maxValueBytes: 4 * KIB, maxKeyLength: 1024 })).toBe(4 * KIB);
    expect(maxPayloadBytes({ name: 'users', maxValueBytes: 4 * KIB, maxKeyLength: 1024, resilience: {} })).toBe(4 * KIB + TIER_ENVELOPE_MAX_BYTES);
  });

  it('allows an unsealed byte serializer\'s frame (its bytes and the 3 of the frame)', () => {
    expect(maxStoredBytes({ name: 'users', maxValueBytes: 4 * KIB, maxKeyLength: 1024, serializer: new MsgpackSerializer() })).toBe(4 * KIB + FRAME_OVERHEAD);
    expect(maxStoredBytes({ name: 'users', maxValueBytes: 4 * KIB, maxKeyLength: 1024, serializer: new TaggedJsonSerializer() })).toBe(4 * KIB);
  });

  // The worst case for each built-in provider: a value of exactly maxValueBytes, multi-byte text, the
  // longest key of 3-byte characters, and (Fernet with bindContext) both bound into the plaintext.
  it.each([
    ['aes-256-gcm', new AesGcmEncryptionProvider({ keys: [{ id: 'k'.repeat(32), key: randomBytes(32) }] })],
    ['fernet, bindContext', new FernetEncryptionProvider({ keys: [{ key: Fernet.generateKey() }], bindContext: true })],
  ] as const)('holds what %s seals from the largest value and key', (_, provider) => {
    for (const maxValueBytes of [1, 1000, 64 * KIB]) {
      const maxKeyLength = 300;
      const name = 'ünïcödé-namespace';
      const text = '€'.repeat(Math.floor(maxValueBytes / 3)) + 'x'.repeat(maxValueBytes % 3);
      expect(Buffer.byteLength(text)).toBe(maxValueBytes);
      const sealed = provider.encrypt(text, { namespace: name, key: '€'.repeat(maxKeyLength) });
      expect(sealed.length).toBeLessThanOrEqual(maxStoredBytes({ name, maxValueBytes, maxKeyLength, encryption: {} }));
    }
  });

  it('overByteLimit counts UTF-8 bytes, scanning only when the length leaves it open', () => {
    expect(overByteLimit('abc', 3)).toBe(false);
    expect(overByteLimit('abcd', 3)).toBe(true);
    expect(overByteLimit('€', 3)).toBe(false);
    expect(overByteLimit('€a', 4)).toBe(false);
    expect(overByteLimit('€€', 5)).toBe(true);
    expect(overByteLimit('😀', 4)).toBe(false);
    expect(overByteLimit('😀', 3)).toBe(true);
  });
});

describe('the namespace bounds what it reads from any backend, and what it writes', () => {
  let warn: jest.SpyInstance;
  beforeEach(() => {
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => warn.mockRestore());

  /** A custom backend with compare-and-delete, recording what it was asked to drop. */
  function customBackend(options: ResolvedNamespaceOptions): { backend: CacheBackend; factory: MapBackendFactory; dropped: unknown[] } {
    const factory = new MapBackendFactory();
    const inner = factory.create({ namespace: 'users', keyPrefix: options.keyPrefix, maxEntries: 10, maxBytes: 0, eviction: options.eviction });
    const dropped: unknown[] = [];
    const backend: CacheBackend = Object.assign(inner, {
      deleteIfUnchanged: async (key: string, expected: unknown) => {
        dropped.push(expected);
        const held = await inner.get(key);
        return held === expected && inner.delete(key);
      },
    });
    return { backend, factory, dropped };
  }

  it('a payload over maxValueBytes is a miss, dropped only if unchanged, counted and logged without the key', async () => {
    const options = optionsFor({ maxValueBytes: 100 });
    const { backend, factory, dropped } = customBackend(options);
    const users = new CacheNamespace(options, backend);
    const planted = JSON.stringify('x'.repeat(99)); // a valid payload of 101 bytes
    factory.store.set(`${options.keyPrefix}secret-key`, { value: planted, expiresAt: 0 });
    factory.store.set(`${options.keyPrefix}other`, { value: planted, expiresAt: 0 });
    await users.set('fits', 'y'.repeat(98)); // exactly 100 bytes serialized
    expect(await users.get('secret-key')).toBeUndefined();
    expect(await users.mget(['fits', 'other'])).toEqual(['y'.repeat(98), undefined]);
    expect(await users.getOrSet('secret-key', () => 'loaded')).toBe('loaded');
    expect(dropped).toEqual([planted, planted]);
    expect(factory.store.has(`${options.keyPrefix}other`)).toBe(false);
    expect(users.stats().unreadableDropped).toBe(2);
    expect(warn.mock.calls.map(([line]) => line)).toEqual([
      'cache.unreadable_dropped namespace=users backend=map serializer=tagged-json reason=oversized',
      'cache.unreadable_dropped namespace=users backend=map serializer=tagged-json reason=oversized',
    ]);
  });

  it('counts UTF-8 bytes: 34 three-byte characters are over a 100-byte limit', async () => {
    const options = optionsFor({ maxValueBytes: 100 });
    const { backend, factory } = customBackend(options);
    factory.store.set(`${options.keyPrefix}k`, { value: JSON.stringify('€'.repeat(33)), expiresAt: 0 }); // 101 bytes, 35 characters
    expect(await new CacheNamespace(options, backend).get('k')).toBeUndefined();
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('reason=oversized'));
  });

  it('a payload that is not a string (a store that parsed it) is a miss and dropped', async () => {
    const options = optionsFor({});
    const { backend, factory } = customBackend(options);
    factory.store.set(`${options.keyPrefix}k`, { value: { name: 'parsed by the store' } as unknown as string, expiresAt: 0 });
    expect(await new CacheNamespace(options, backend).get('k')).toBeUndefined();
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('reason=not-a-string'));
  });

  it('encrypted: the sealed bound is checked before opening, and the opened text against maxValueBytes', async () => {
    const options = optionsFor({ maxValueBytes: 100, encryption: { keys: [{ id: 'k1', key: randomBytes(32).toString('base64') }] } });
    const { backend, factory } = customBackend(options);
    const users = new CacheNamespace(options, backend);
    await users.set('fits', 'y'.repeat(98));
    expect(await users.get('fits')).toBe('y'.repeat(98));
    const decrypt = jest.spyOn(options.encryption!.provider as EncryptionProvider, 'decrypt');
    factory.store.set(`${options.keyPrefix}big`, { value: 'A'.repeat(maxStoredBytes(options) + 1), expiresAt: 0 });
    expect(await users.get('big')).toBeUndefined();
    expect(decrypt).not.toHaveBeenCalled();
    // Authentic (sealed with this namespace's key for this key) but over maxValueBytes once opened.
    const provider = options.encryption!.provider as EncryptionProvider;
    factory.store.set(`${options.keyPrefix}authentic`, { value: provider.encrypt(JSON.stringify('z'.repeat(150)), { namespace: 'users', key: 'authentic' }), expiresAt: 0 });
    expect(await users.get('authentic')).toBeUndefined();
    expect(users.stats().unreadableDropped).toBe(2);
    expect(users.stats().tamperDetected).toBe(0);
    decrypt.mockRestore();
  });

  it('refuses to write what a provider seals beyond the bound, so that nothing written reads back as oversized', async () => {
    const base = optionsFor({ maxValueBytes: 100_000 });
    const hex: EncryptionProvider = {
      name: 'hex-wrapper',
      encrypt: (plaintext) => Buffer.from(plaintext).toString('hex'),
      decrypt: (payload) => ({ plaintext: Buffer.from(payload, 'hex').toString(), stale: false }),
    };
    const options: ResolvedNamespaceOptions = { ...base, encryption: { provider: hex, reencryptOnRead: false } };
    const users = new CacheNamespace(options, customBackend(options).backend);
    await users.set('small', 'a'.repeat(100));
    expect(await users.get('small')).toBe('a'.repeat(100));
    // 99 000 bytes serialized, within maxValueBytes; twice that once sealed, over 4/3 of it plus the allowance.
    const error = await users.set('large', 'a'.repeat(99_000)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValueTooLargeError);
    expect((error as ValueTooLargeError).limitBytes).toBe(maxStoredBytes(options));
    expect(await users.getOrSet('large', () => 'b'.repeat(99_000))).toBe('b'.repeat(99_000)); // served, not cached
    expect(await users.get('large')).toBeUndefined();
  });
});
