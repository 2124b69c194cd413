import * as zlib from 'node:zlib';
import { CacheError } from '../errors/cache-error';
import { CompressionAlgorithm, ResolvedCompression } from './payload-options';

/**
 * The binary payload (payloadFormat "binary"), as stored in Redis:
 *
 *     0xC1 ‖ format version (0x01) ‖ body
 *     body = sealed ? provider.encryptBytes(inner) : inner
 *     inner = coding ‖ data
 *     coding = what data holds (0x00 UTF-8 text of a `Serializer`, 0x10 the bytes of a `BinarySerializer`)
 *            | its compression (0 none, 1 gzip, 2 brotli, 3 zstd)
 *
 * 0xC1 never begins UTF-8 text, so a payload of an earlier version (text: a JSON document, a
 * base64url seal, a Fernet token) is told apart by its first byte and still read. The coding byte is
 * inside the seal: it is authenticated with the data. A namespace reads only the kind of data its
 * serializer writes: a frame of the other kind is refused (`serializer-mismatch`), never misread.
 */
export const FRAME_MARK = 0xc1;
export const FRAME_VERSION = 0x01;
/** Mark, version, coding. */
export const FRAME_OVERHEAD = 3;
/** The coding byte's flag for a byte serializer's output (earlier versions refuse it as an unknown coding). */
export const SERIALIZED_BYTES = 0x10;
const COMPRESSION_BITS = 0x0f;

const CODINGS: Record<CompressionAlgorithm, number> = { gzip: 1, brotli: 2, zstd: 3 };

/** A payload's inner bytes that cannot be decoded (an unknown coding, a broken stream); `reason` is logged. */
export class PayloadCodingError extends CacheError {
  readonly code = 'CACHE_PAYLOAD_CODING';

  constructor(readonly reason: string) {
    super(`payload cannot be decoded: ${reason}`);
  }
}

/** `inner` for `text`: compressed when compression is on, the text is at least the threshold, and it saves bytes. */
export function innerBytes(text: string, bytes: number, compression: ResolvedCompression | undefined): Buffer {
  if (compression !== undefined && bytes >= compression.thresholdBytes) {
    const packed = compress(compression, Buffer.from(text, 'utf8'));
    // Kept only if the frame is smaller than the text would be: it never outgrows `maxValueBytes`.
    if (packed.length + FRAME_OVERHEAD <= bytes) {
      const inner = Buffer.allocUnsafe(1 + packed.length);
      inner[0] = CODINGS[compression.algorithm];
      packed.copy(inner, 1);
      return inner;
    }
  }
  const inner = Buffer.allocUnsafe(1 + bytes);
  inner[0] = 0;
  inner.write(text, 1, 'utf8');
  return inner;
}

/** `inner` for a byte serializer's `data`: flagged as such, compressed under the same rule as text. */
export function innerOfBytes(data: Uint8Array, compression: ResolvedCompression | undefined): Buffer {
  if (compression !== undefined && data.length >= compression.thresholdBytes) {
    const packed = compress(compression, data);
    if (packed.length + FRAME_OVERHEAD <= data.length) {
      const inner = Buffer.allocUnsafe(1 + packed.length);
      inner[0] = SERIALIZED_BYTES | CODINGS[compression.algorithm];
      packed.copy(inner, 1);
      return inner;
    }
  }
  const inner = Buffer.allocUnsafe(1 + data.length);
  inner[0] = SERIALIZED_BYTES;
  inner.set(data, 1);
  return inner;
}

/** The frame around a body. */
export function frameOf(body: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(2 + body.length);
  frame[0] = FRAME_MARK;
  frame[1] = FRAME_VERSION;
  body.copy(frame, 2);
  return frame;
}

/** A stored payload in the binary format (an earlier text payload is not). */
export function isFrame(payload: Buffer): boolean {
  return payload.length >= 2 && payload[0] === FRAME_MARK;
}

/**
 * The text of `inner`, decompressed into at most `maxBytes` bytes: a stream that would inflate past
 * the namespace's `maxValueBytes` (a planted "zip bomb") stops there with a `PayloadCodingError`
 * ('oversized') instead of filling memory. A byte serializer's frame is a `serializer-mismatch`.
 */
export function textOf(inner: Buffer, maxBytes: number): string {
  if (inner.length === 0) throw new PayloadCodingError('malformed');
  const coding = inner[0];
  if (coding === 0) return inner.toString('utf8', 1);
  if ((coding & SERIALIZED_BYTES) !== 0) throw new PayloadCodingError('serializer-mismatch');
  return inflate(coding, inner.subarray(1), maxBytes).toString('utf8');
}

/**
 * The byte serializer's data in `inner` (a view of it when not compressed), decompressed as `textOf`
 * does; a text serializer's frame is a `serializer-mismatch`.
 */
export function bytesOf(inner: Buffer, maxBytes: number): Buffer {
  if (inner.length === 0) throw new PayloadCodingError('malformed');
  const coding = inner[0];
  if ((coding & ~COMPRESSION_BITS) !== SERIALIZED_BYTES) throw new PayloadCodingError(coding <= COMPRESSION_BITS ? 'serializer-mismatch' : 'unknown-coding');
  const compression = coding & COMPRESSION_BITS;
  return compression === 0 ? inner.subarray(1) : inflate(compression, inner.subarray(1), maxBytes);
}

function inflate(coding: number, data: Buffer, maxBytes: number): Buffer {
  const options = { maxOutputLength: Math.max(1, maxBytes) };
  try {
    if (coding === CODINGS.gzip) return zlib.gunzipSync(data, options);
    if (coding === CODINGS.brotli) return zlib.brotliDecompressSync(data, options);
    if (coding === CODINGS.zstd && zstd !== undefined) return zstd.zstdDecompressSync(data, options);
  } catch (error) {
    throw new PayloadCodingError((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' ? 'oversized' : 'corrupt-compression');
  }
  throw new PayloadCodingError('unknown-coding');
}

interface ZstdZlib {
  zstdCompressSync(data: Uint8Array, options: object): Buffer;
  zstdDecompressSync(data: Buffer, options: object): Buffer;
}
/** Node 22.15+; absent on Node 20 (the options refuse "zstd" there). */
const zstd = typeof (zlib as Partial<ZstdZlib>).zstdCompressSync === 'function' ? (zlib as unknown as ZstdZlib) : undefined;

function compress({ algorithm, level }: ResolvedCompression, data: Uint8Array): Buffer {
  if (algorithm === 'gzip') return zlib.gzipSync(data, { level });
  if (algorithm === 'brotli') {
    return zlib.brotliCompressSync(data, {
      params: { [zlib.constants.BROTLI_PARAM_QUALITY]: level, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length, [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT },
    });
  }
  // ZSTD_c_compressionLevel = 100 in zstd's parameter list (Node exposes it as constants.ZSTD_c_compressionLevel).
  return zstd!.zstdCompressSync(data, { params: { [(zlib.constants as Record<string, number>).ZSTD_c_compressionLevel ?? 100]: level } });
}
