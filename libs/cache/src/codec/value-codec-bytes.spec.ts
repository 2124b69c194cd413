/**
 * The codec with a byte serializer (`MsgpackSerializer`): frames flagged as holding its bytes, refused
 * by a namespace whose serializer writes the other kind (and the other way round), compression and
 * sealing on those bytes, and the size limits on the serialized bytes.
 */
import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import * as zlib from 'node:zlib';
import { Packr } from 'msgpackr';
import { InvalidOptionsError } from '../errors/invalid-options.error';
import { InvalidValueError } from '../errors/invalid-value.error';
import { ValueTooLargeError } from '../errors/value-too-large.error';
import { CacheEvents } from '../events/cache-events';
import { AesGcmEncryptionProvider } from '../security/aes-gcm-encryption-provider';
import { EncryptionProvider } from '../security/encryption-provider.interface';
import { MsgpackSerializer } from '../serialization/msgpack-serializer';
import { TaggedJsonSerializer } from '../serialization/tagged-json-serializer';
import { frameOf, FRAME_OVERHEAD } from './payload-frame';
import { CodecOptions, PayloadOwner, ValueCodec } from './value-codec';

const k1 = { id: 'k1', key: randomBytes(32).toString('base64') };
const k2 = { id: 'k2', key: randomBytes(32).toString('base64') };
const msgpack = new MsgpackSerializer();
const sealedWith = (keys = [k1], reencryptOnRead = false) => ({ provider: new AesGcmEncryptionProvider({ keys }), reencryptOnRead });

/** A codec of a byte store (`bytes`: the backend stores Buffers, as Redis with binary payloads; else a string store, "map"). */
function codecOf(settings: Partial<CodecOptions> = {}, bytes = true, payloads = true): ValueCodec {
  return new ValueCodec({ name: 'users', serializer: msgpack, maxValueBytes: 64 * 1024, maxKeyLength: 64, payloadFormat: 'binary', ...settings }, bytes ? 'redis' : 'map', new CacheEvents(), payloads, bytes);
}

function owner(replace?: PayloadOwner['replace']): PayloadOwner & { dropped: unknown[] } {
  const dropped: unknown[] = [];
  return { dropped, drop: (k, payload) => dropped.push([k, payload]), replace };
}

describe('ValueCodec with a byte serializer', () => {
  let warn: jest.SpyInstance;
  beforeEach(() => {
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => warn.mockRestore());
  const reasons = (): string[] => warn.mock.calls.map(([line]) => String(/reason=(\S+)/.exec(String(line))?.[1] ?? line));

  it('is refused at start-up where payloads cannot be binary frames, naming the serializer field', () => {
    const textOnly: EncryptionProvider = { name: 'text-only', encrypt: (t) => t, decrypt: (p) => ({ plaintext: p, stale: false }) };
    for (const [settings, bytes, reason] of [
      [{}, false, 'a backend that stores bytes \\("redis"; "map" does not\\)'], // a backend that stores strings
      [{ payloadFormat: 'text' as const }, true, 'payloadFormat "binary"'],
      [{ encryption: { provider: textOnly, reencryptOnRead: false } }, true, 'a provider that seals bytes \\("text-only" seals text only\\)'],
    ] as const) {
      expect(() => codecOf(settings, bytes)).toThrow(InvalidOptionsError);
      expect(() => codecOf(settings, bytes)).toThrow(new RegExp(`namespaces\\.users\\.serializer: "msgpack" writes bytes and needs binary payloads: ${reason}`));
    }
    // Live-value stores (memory, a tier's L1) never serialize: nothing to refuse.
    expect(() => codecOf({}, false, false)).not.toThrow();
  });

  it('writes a frame flagged as the byte serializer\'s, with its bytes as they are, and reads it back', async () => {
    const codec = codecOf();
    const value = { when: new Date(5), tags: new Set(['a']), counts: new Map([[1, 2n]]) };
    const { stored, size } = codec.encode(value, 'value', 'u1');
    const packed = Buffer.from(msgpack.serializeBytes(value));
    expect(Buffer.isBuffer(stored)).toBe(true);
    expect((stored as Buffer).subarray(0, 3)).toEqual(Buffer.from([0xc1, 0x01, 0x10]));
    expect((stored as Buffer).subarray(3)).toEqual(packed);
    expect(size).toBe(packed.length + FRAME_OVERHEAD);
    expect(await codec.decode('u1', stored, '', owner())).toEqual(value);
  });

  describe('an entry of the other serializer is a miss and dropped, never misread', () => {
    const cases: [string, Partial<CodecOptions>][] = [['unsealed', {}], ['sealed', { encryption: sealedWith() }]];
    it.each(cases)('%s: msgpack frames in a tagged-JSON namespace, tagged-JSON frames in a msgpack one', async (_, settings) => {
      const json = codecOf({ ...settings, serializer: new TaggedJsonSerializer(), compression: { algorithm: 'gzip', thresholdBytes: 0, level: 6 } });
      const mine = codecOf(settings);
      const value = { list: Array.from({ length: 50 }, (_, i) => ({ i, name: `track ${i}` })) };
      const fromMsgpack = mine.encode(value, 'value', 'u1').stored;
      const fromJson = json.encode(value, 'value', 'u1').stored;
      const store = owner();
      expect(await json.decode('u1', fromMsgpack, '', store)).toBeUndefined();
      expect(await mine.decode('u1', fromJson, '', store)).toBeUndefined();
      expect(store.dropped).toEqual([['u1', fromMsgpack], ['u1', fromJson]]);
      expect([json.dropped, json.tampered, mine.dropped, mine.tampered]).toEqual([1, 0, 1, 0]);
      expect(reasons()).toEqual(['serializer-mismatch', 'serializer-mismatch']);
    });

    it('text payloads (as strings or as bytes) in a msgpack namespace', async () => {
      const codec = codecOf();
      const store = owner();
      const text = new TaggedJsonSerializer().serialize({ n: 1 });
      expect(await codec.decode('a', text, '', store)).toBeUndefined();
      expect(await codec.decode('b', Buffer.from(text), '', store)).toBeUndefined();
      // MessagePack bytes without a frame: not something this namespace writes either.
      const bare = Buffer.from(msgpack.serializeBytes({ n: 1 }));
      expect(await codec.decode('c', bare, '', store)).toBeUndefined();
      expect(store.dropped).toEqual([['a', text], ['b', Buffer.from(text)], ['c', bare]]);
      expect(codec.dropped).toBe(3);
    });
  });

  it('compresses the serialized bytes above the threshold, then seals them; the frame reads back', async () => {
    const codec = codecOf({ compression: { algorithm: 'gzip', thresholdBytes: 100, level: 6 }, encryption: sealedWith() });
    const plainCodec = codecOf({ compression: { algorithm: 'gzip', thresholdBytes: 100, level: 6 } });
    const value = { list: Array.from({ length: 200 }, (_, i) => ({ i, name: 'track', at: new Date(i) })) };
    const packed = msgpack.serializeBytes(value).length;
    const sealed = codec.encode(value, 'value', 'u1').stored as Buffer;
    const unsealed = plainCodec.encode(value, 'value', 'u1').stored as Buffer;
    expect(unsealed[2]).toBe(0x11); // a byte serializer's data, gzip
    expect(unsealed.length).toBeLessThan(packed / 4);
    expect(sealed.length).toBeLessThan(packed / 4);
    expect(await codec.decode('u1', sealed, '', owner())).toEqual(value);
    expect(await plainCodec.decode('u1', unsealed, '', owner())).toEqual(value);
    // Sealed for its key: moved to another, it is a tamper.
    const moved = owner();
    expect(await codec.decode('u2', sealed, '', moved)).toBeUndefined();
    expect(codec.tampered).toBe(1);
  });

  it('re-seals a frame sealed with an older key, keeping the byte serializer\'s flag', async () => {
    const old = codecOf({ encryption: sealedWith([k1]) });
    const codec = codecOf({ encryption: sealedWith([k2, k1], true) });
    const frame = old.encode({ n: new Map([['a', 1]]) }, 'value', 'u1').stored as Buffer;
    let replacement: Buffer | undefined;
    const store = owner(async (_key, _payload, next) => {
      replacement = next as Buffer;
      return true;
    });
    expect(await codec.decode('u1', frame, '', store)).toEqual({ n: new Map([['a', 1]]) });
    expect(replacement).toBeDefined();
    expect(await codecOf({ encryption: sealedWith([k2]) }).decode('u1', replacement, '', owner())).toEqual({ n: new Map([['a', 1]]) });
  });

  describe('size limits', () => {
    it('maxValueBytes bounds the serialized bytes; a value of exactly the limit is written and read back unsealed', async () => {
      const codec = codecOf({ maxValueBytes: 64 });
      // str8: 2 bytes of header, then the characters.
      const fits = codec.encode('x'.repeat(62), 'value', 'k').stored;
      expect(await codec.decode('k', fits, '', owner())).toBe('x'.repeat(62));
      expect(() => codec.encode('x'.repeat(63), 'value', 'k')).toThrow(ValueTooLargeError);
      expect(() => codec.encode({ f: () => 1 }, 'value', 'k')).toThrow(InvalidValueError);
    });

    it('a planted frame over the limit, or one that inflates past it, is dropped unread', async () => {
      const codec = codecOf({ maxValueBytes: 1024 });
      const store = owner();
      const big = frameOf(Buffer.concat([Buffer.from([0x10]), Buffer.from(msgpack.serializeBytes('y'.repeat(2000)))]));
      expect(await codec.decode('a', big, '', store)).toBeUndefined();
      const bomb = frameOf(Buffer.concat([Buffer.from([0x11]), zlib.gzipSync(Buffer.from(msgpack.serializeBytes('z'.repeat(100_000))))]));
      expect(bomb.length).toBeLessThan(1024);
      expect(await codec.decode('b', bomb, '', store)).toBeUndefined();
      expect(store.dropped).toHaveLength(2);
      expect(reasons()).toEqual(['oversized', 'oversized']);
    });
  });

  it('planted bytes the serializer refuses (a __proto__ key, trailing bytes) are dropped', async () => {
    const codec = codecOf();
    const store = owner();
    const raw = new Packr({ useRecords: false, variableMapSize: true });
    const proto = frameOf(Buffer.concat([Buffer.from([0x10]), raw.pack(JSON.parse('{"__proto__":{"isAdmin":true}}'))]));
    const trailing = frameOf(Buffer.concat([Buffer.from([0x10]), raw.pack({ a: 1 }), Buffer.from([0x00])]));
    expect(await codec.decode('a', proto, '', store)).toBeUndefined();
    expect(await codec.decode('b', trailing, '', store)).toBeUndefined();
    expect(store.dropped).toEqual([['a', proto], ['b', trailing]]);
    expect(reasons()).toEqual(['PrototypeKeyError', 'CorruptPayloadError']);
  });
});
