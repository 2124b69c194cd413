import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { OversizedPayload } from '../backends/cache-backend.interface';
import { InvalidOptionsError } from '../errors/invalid-options.error';
import { InvalidValueError } from '../errors/invalid-value.error';
import { ValueTooLargeError } from '../errors/value-too-large.error';
import { CacheEvents } from '../events/cache-events';
import { AesGcmEncryptionProvider } from '../security/aes-gcm-encryption-provider';
import { TaggedJsonSerializer } from '../serialization/tagged-json-serializer';
import { CodecOptions, PayloadOwner, ValueCodec } from './value-codec';

const key = (id: string) => ({ id, key: randomBytes(32).toString('base64') });
const k1 = key('k1');
const k2 = key('k2');

function codecOf(settings: Partial<CodecOptions> = {}, events = new CacheEvents(), payloads = true): ValueCodec {
  return new ValueCodec({ name: 'users', serializer: new TaggedJsonSerializer(), maxValueBytes: 1024, maxKeyLength: 64, ...settings }, 'map', events, payloads);
}

/** A store that records what the codec asks of it. */
function owner(replace?: PayloadOwner['replace']): PayloadOwner & { dropped: unknown[] } {
  const dropped: unknown[] = [];
  return { dropped, drop: (k, payload) => dropped.push([k, payload]), replace };
}

describe('ValueCodec', () => {
  let warn: jest.SpyInstance;
  beforeEach(() => {
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => warn.mockRestore());

  it('refuses compression at start-up where payloads cannot be bytes (a backend that stores text), naming the field', () => {
    const compression = { algorithm: 'gzip' as const, thresholdBytes: 0, level: 6 };
    expect(() => codecOf({ payloadFormat: 'binary', compression })).toThrow(InvalidOptionsError);
    expect(() => codecOf({ payloadFormat: 'binary', compression })).toThrow(/namespaces\.users\.compression: needs binary payloads/);
    // Live-value stores never make payloads: nothing to refuse.
    expect(() => codecOf({ payloadFormat: 'binary', compression }, new CacheEvents(), false)).not.toThrow();
  });

  it('binary frames: compressed, sealed with bytes, bound to the key; text payloads of the same provider still read', async () => {
    const codec = new ValueCodec({
      name: 'users', serializer: new TaggedJsonSerializer(), maxValueBytes: 64 * 1024, maxKeyLength: 64, payloadFormat: 'binary',
      compression: { algorithm: 'gzip', thresholdBytes: 100, level: 6 }, encryption: { provider: new AesGcmEncryptionProvider({ keys: [k1] }), reencryptOnRead: false },
    }, 'redis', new CacheEvents(), true, true);
    const value = { list: Array.from({ length: 200 }, (_, i) => ({ i, name: 'track' })) };
    const { stored, size } = codec.encode(value, 'value', 'u1');
    expect(Buffer.isBuffer(stored)).toBe(true);
    expect(size).toBeLessThan(JSON.stringify(value).length / 4);
    expect(await codec.decode('u1', stored, '', owner())).toEqual(value);
    const other = owner();
    expect(await codec.decode('u2', stored, '', other)).toBeUndefined();
    expect(other.dropped).toEqual([['u2', stored]]);
    const text = new AesGcmEncryptionProvider({ keys: [k1] }).encrypt('{"n":1}', { namespace: 'users', key: 'u3' });
    expect(await codec.decode('u3', Buffer.from(text), '', owner())).toEqual({ n: 1 });
  });

  it('encodes and decodes through the serializer, and measures live values without serializing them', async () => {
    const codec = codecOf();
    const { stored, size } = codec.encode({ n: 1 }, 'value', 'u1');
    expect(typeof stored).toBe('string');
    expect(size).toBe(Buffer.byteLength(stored as string));
    expect(await codec.decode('u1', stored, '', owner())).toEqual({ n: 1 });
    const live = { n: 1 };
    expect(codecOf({}, new CacheEvents(), false).measure(live, 'value').stored).toBe(live);
  });

  it('refuses undefined, unserializable and oversized values with typed errors, naming the path', () => {
    const codec = codecOf({ maxValueBytes: 8 });
    expect(() => codec.encode(undefined, 'entries[1].value', 'k')).toThrow(InvalidValueError);
    expect(() => codec.encode({ f: () => 1 }, 'entries[1].value', 'k')).toThrow(/entries\[1\]\.value\.f/);
    expect(() => codec.encode('x'.repeat(20), 'value', 'k')).toThrow(ValueTooLargeError);
    expect(() => codec.measure('x'.repeat(20), 'value')).toThrow(ValueTooLargeError);
  });

  it('asks the store that read it to drop an unreadable or oversized payload, and counts it', async () => {
    const codec = codecOf({ maxValueBytes: 16 });
    const store = owner();
    expect(await codec.decode('a', '{not json', '', store)).toBeUndefined();
    expect(await codec.decode('b', 'x'.repeat(17), '', store)).toBeUndefined();
    const oversized = new OversizedPayload(1 << 20);
    expect(await codec.decode('c', oversized, '', store)).toBeUndefined();
    expect(store.dropped).toEqual([['a', '{not json'], ['b', 'x'.repeat(17)], ['c', oversized]]);
    expect(codec.dropped).toBe(3);
  });

  it('seals for the key and the envelope: a payload moved to another key or envelope is a tamper, dropped and reported', async () => {
    const events = new CacheEvents();
    const tampers: string[] = [];
    events.on('tamper', (e) => tampers.push(`${e.key}:${e.reason}`));
    const codec = codecOf({ encryption: { provider: new AesGcmEncryptionProvider({ keys: [k1] }), reencryptOnRead: false } }, events);
    const payload = codec.encode('v', 'value', 'u1', '1a2b').stored as string;
    expect(await codec.decode('u1', payload, '1a2b', owner())).toBe('v');
    const store = owner();
    expect(await codec.decode('u2', payload, '1a2b', store)).toBeUndefined();
    expect(await codec.decode('u1', payload, 'ffff', store)).toBeUndefined();
    expect(store.dropped).toEqual([['u2', payload], ['u1', payload]]);
    expect(tampers).toEqual(['u2:authentication-failed', 'u1:authentication-failed']);
    expect([codec.tampered, codec.dropped]).toEqual([2, 0]);
  });

  describe('re-encrypt-on-read reports a keyRotated event only for an entry it replaced', () => {
    const oldPayload = new AesGcmEncryptionProvider({ keys: [k1] }).encrypt('"v"', { namespace: 'users', key: 'u1' });

    async function readWith(replace: PayloadOwner['replace']): Promise<unknown[]> {
      const events = new CacheEvents();
      const rotations: unknown[] = [];
      events.on('keyRotated', (e) => rotations.push(e));
      const codec = codecOf({ encryption: { provider: new AesGcmEncryptionProvider({ keys: [k2, k1] }), reencryptOnRead: true } }, events);
      expect(await codec.decode('u1', oldPayload, '', owner(replace))).toBe('v');
      return rotations;
    }

    it('replaced: one event with both key ids', async () => {
      expect(await readWith(async () => true)).toEqual([{ namespace: 'users', key: 'u1', fromKeyId: 'k1', toKeyId: 'k2' }]);
    });

    it('not replaced (a newer write got there first) or the replace failed: no event, and the read still answers', async () => {
      expect(await readWith(async () => false)).toEqual([]);
      expect(await readWith(async () => {
        throw new Error('connection lost');
      })).toEqual([]);
    });

    it('hands the store the payload it read and one sealed with the newest key', async () => {
      const swaps: [unknown, unknown][] = [];
      await readWith(async (_key, payload, replacement) => {
        swaps.push([payload, replacement]);
        return true;
      });
      expect(swaps[0][0]).toBe(oldPayload);
      expect(new AesGcmEncryptionProvider({ keys: [k2] }).decrypt(swaps[0][1] as string, { namespace: 'users', key: 'u1' }).plaintext).toBe('"v"');
    });
  });
});
