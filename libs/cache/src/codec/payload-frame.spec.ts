import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { OptionProblem } from '../errors/invalid-options.error';
import { frameOf, innerBytes, isFrame, PayloadCodingError, textOf } from './payload-frame';
import { resolveCompression, resolvePayloadFormat, zstdAvailable } from './payload-options';

const json = JSON.stringify({ items: Array.from({ length: 300 }, (_, i) => ({ id: i, title: `track ${i}`, artist: 'Miles Davis' })) });
const bytes = Buffer.byteLength(json);

function codingError(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(PayloadCodingError);
    return (error as PayloadCodingError).reason;
  }
  throw new Error('expected a PayloadCodingError');
}

describe('binary payload frames and compression', () => {
  it.each(['gzip', 'brotli'] as const)('%s: compresses above the threshold, round-trips, and leaves small values as they are', (algorithm) => {
    const compression = resolveCompression({ algorithm, thresholdBytes: 1024 }, 'compression', [])!;
    const inner = innerBytes(json, bytes, compression);
    expect(inner[0]).toBe(algorithm === 'gzip' ? 1 : 2);
    expect(inner.length).toBeLessThan(bytes / 4);
    expect(textOf(inner, bytes)).toBe(json);
    const small = innerBytes('"short"', 7, compression);
    expect([...small]).toEqual([0, ...Buffer.from('"short"')]);
  });

  it('stores incompressible text as it is (compression kept only when it saves bytes)', () => {
    // Short, varied text: gzip's own header and trailer outweigh what it saves.
    const text = JSON.stringify(randomBytes(24).toString('base64'));
    const inner = innerBytes(text, Buffer.byteLength(text), resolveCompression({ thresholdBytes: 0 }, 'c', [])!);
    expect(inner[0]).toBe(0);
    expect(inner.subarray(1).toString()).toBe(text);
  });

  it('bounds decompression by the namespace limit: a stream that inflates past it stops there', () => {
    const bomb = Buffer.concat([Buffer.from([1]), gzipSync(Buffer.alloc(8 * 1024 * 1024))]);
    expect(bomb.length).toBeLessThan(16 * 1024);
    expect(codingError(() => textOf(bomb, 64 * 1024))).toBe('oversized');
    expect(codingError(() => textOf(Buffer.from([1, 1, 2, 3]), 1024))).toBe('corrupt-compression');
    expect(codingError(() => textOf(Buffer.from([9, 1, 2, 3]), 1024))).toBe('unknown-coding');
    expect(codingError(() => textOf(Buffer.alloc(0), 1024))).toBe('malformed');
  });

  it('frames start with a byte no UTF-8 text starts with', () => {
    const frame = frameOf(Buffer.from([0, 0x7b]));
    expect(isFrame(frame)).toBe(true);
    for (const text of ['{"a":1}', '"x"', 'AQJrMfBL', 'gAAAAAB', '\u001e0\u001e', 'Ág']) expect(isFrame(Buffer.from(text))).toBe(false);
  });

  it('checks the options, naming the field', () => {
    const problems: OptionProblem[] = [];
    expect(resolveCompression({ algorithm: 'lz4' }, 'namespaces.feed.compression', problems)).toBeUndefined();
    resolveCompression({ thresholdBytes: -1, level: 42 }, 'namespaces.feed.compression', problems);
    resolveCompression({ algorithm: 'gzip', levle: 3 }, 'namespaces.feed.compression', problems);
    expect(problems.map((p) => p.path)).toEqual([
      'namespaces.feed.compression.algorithm', 'namespaces.feed.compression.thresholdBytes', 'namespaces.feed.compression.level', 'namespaces.feed.compression.levle',
    ]);
    const zstd: OptionProblem[] = [];
    const resolved = resolveCompression({ algorithm: 'zstd' }, 'namespaces.feed.compression', zstd);
    if (zstdAvailable()) expect(resolved).toMatchObject({ algorithm: 'zstd', level: 3 });
    else expect(zstd).toEqual([{ path: 'namespaces.feed.compression.algorithm', reason: expect.stringMatching(/needs Node 22\.15 or later/) }]);
  });

  it('picks the payload format: binary for xchacha20-poly1305 and compression, text otherwise; refuses what cannot work', () => {
    const gzip = resolveCompression({}, 'c', [])!;
    expect(resolvePayloadFormat(undefined, 'p', 'xchacha20-poly1305', undefined, [])).toBe('binary');
    expect(resolvePayloadFormat(undefined, 'p', undefined, gzip, [])).toBe('binary');
    expect(resolvePayloadFormat(undefined, 'p', 'aes-256-gcm', undefined, [])).toBe('text');
    const problems: OptionProblem[] = [];
    resolvePayloadFormat('binary', 'namespaces.py.payloadFormat', 'fernet', undefined, problems);
    resolvePayloadFormat('text', 'namespaces.feed.payloadFormat', undefined, gzip, problems);
    resolvePayloadFormat(undefined, 'namespaces.hist.payloadFormat', 'fernet', gzip, problems);
    resolvePayloadFormat('bytes', 'namespaces.x.payloadFormat', undefined, undefined, problems);
    expect(problems.map((p) => p.path)).toEqual([
      'namespaces.py.payloadFormat', 'namespaces.feed.payloadFormat', 'namespaces.hist.payloadFormat', 'namespaces.hist.compression', 'namespaces.x.payloadFormat',
    ]);
  });
});
