import * as zlib from 'node:zlib';
import { OptionProblem } from '../errors/invalid-options.error';

/**
 * How a namespace's payloads are stored (`payloadFormat`) and whether large values are compressed
 * (`compression`): the options, their checks at start-up and their defaults.
 */

/** `binary`: sealed and compressed payloads as bytes (Redis); `text`: the text payloads of earlier versions. */
export type PayloadFormat = 'binary' | 'text';
export const PAYLOAD_FORMATS: readonly PayloadFormat[] = ['binary', 'text'];

export type CompressionAlgorithm = 'gzip' | 'brotli' | 'zstd';
export const COMPRESSION_ALGORITHMS: readonly CompressionAlgorithm[] = ['gzip', 'brotli', 'zstd'];

/** `namespaces.<name>.compression`: off unless given. */
export interface CompressionOptions {
  /** Default `'gzip'`. `'zstd'` needs a Node whose `node:zlib` has it (22.15 and later). */
  algorithm?: CompressionAlgorithm;
  /** Values whose serialized text is smaller than this are stored as they are. Default 1024. */
  thresholdBytes?: number;
  /** The algorithm's level (gzip 1–9, default 6; brotli quality 0–11, default 5; zstd 1–22, default 3). */
  level?: number;
}

export interface ResolvedCompression {
  readonly algorithm: CompressionAlgorithm;
  readonly thresholdBytes: number;
  readonly level: number;
}

const LEVELS: Record<CompressionAlgorithm, { min: number; max: number; default: number }> = {
  gzip: { min: 1, max: 9, default: 6 },
  // Brotli's own default (11) costs about 100× gzip's time on a cache's values: 5 is near gzip's speed and smaller.
  brotli: { min: 0, max: 11, default: 5 },
  zstd: { min: 1, max: 22, default: 3 },
};

/** True when this Node's `zlib` has zstd (Node 22.15+; Node 20 does not). */
export function zstdAvailable(): boolean {
  return typeof (zlib as { zstdCompressSync?: unknown }).zstdCompressSync === 'function';
}

/** Checks `compression` (reporting to `problems`): undefined when off or invalid. */
export function resolveCompression(input: unknown, path: string, problems: OptionProblem[]): ResolvedCompression | undefined {
  if (input === undefined || input === false) return undefined;
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    problems.push({ path, reason: 'must be an object { algorithm?, thresholdBytes?, level? } or false' });
    return undefined;
  }
  const { algorithm = 'gzip', thresholdBytes = 1024, level, ...rest } = input as CompressionOptions & Record<string, unknown>;
  const before = problems.length;
  for (const field of Object.keys(rest)) problems.push({ path: `${path}.${field}`, reason: 'is not an option of compression (algorithm, thresholdBytes, level)' });
  if (!COMPRESSION_ALGORITHMS.includes(algorithm)) {
    problems.push({ path: `${path}.algorithm`, reason: `must be ${COMPRESSION_ALGORITHMS.map((a) => `"${a}"`).join(', ')}` });
    return undefined;
  }
  if (algorithm === 'zstd' && !zstdAvailable()) {
    problems.push({ path: `${path}.algorithm`, reason: `"zstd" needs Node 22.15 or later (node:zlib has no zstd in ${process.version}); use "gzip" or "brotli"` });
  }
  if (!Number.isInteger(thresholdBytes) || thresholdBytes < 0) problems.push({ path: `${path}.thresholdBytes`, reason: 'must be an integer ≥ 0' });
  const range = LEVELS[algorithm];
  if (level !== undefined && (!Number.isInteger(level) || level < range.min || level > range.max)) {
    problems.push({ path: `${path}.level`, reason: `must be an integer from ${range.min} to ${range.max} for "${algorithm}"` });
  }
  if (problems.length > before) return undefined;
  return { algorithm, thresholdBytes, level: level ?? range.default };
}

/**
 * The format a namespace writes: as configured, else binary for what earlier versions never wrote
 * (xchacha20-poly1305, compression, a byte serializer: `byteSerializer` is its name).
 */
export function resolvePayloadFormat(
  input: unknown, path: string, provider: string | undefined, compression: ResolvedCompression | undefined, problems: OptionProblem[], byteSerializer?: string,
): PayloadFormat {
  if (input !== undefined && !PAYLOAD_FORMATS.includes(input as PayloadFormat)) {
    problems.push({ path, reason: 'must be "binary" or "text"' });
    return 'text';
  }
  const format = (input as PayloadFormat | undefined) ?? (compression !== undefined || provider === 'xchacha20-poly1305' || byteSerializer !== undefined ? 'binary' : 'text');
  if (byteSerializer !== undefined) {
    const serializerPath = path.replace(/payloadFormat$/, 'serializer');
    if (format === 'text') problems.push({ path: serializerPath, reason: `"${byteSerializer}" writes bytes, which need binary payloads: leave payloadFormat unset or "binary"` });
    if (provider === 'fernet') problems.push({ path: serializerPath, reason: `"${byteSerializer}" writes bytes, which Fernet tokens cannot carry: pick "xchacha20-poly1305" or "aes-256-gcm", or a text serializer` });
  }
  // A byte serializer with Fernet is reported once, on the serializer.
  if (format === 'binary' && provider === 'fernet' && !(input === undefined && byteSerializer !== undefined)) {
    problems.push({ path, reason: 'Fernet tokens are text (a Python service reads them as they are): leave payloadFormat unset or "text"' });
  }
  if (compression !== undefined && format === 'text') problems.push({ path, reason: 'is "text", but compression needs binary payloads' });
  if (compression !== undefined && provider === 'fernet') {
    problems.push({ path: path.replace(/payloadFormat$/, 'compression'), reason: 'needs a provider that seals bytes ("xchacha20-poly1305" or "aes-256-gcm"); Fernet tokens carry text' });
  }
  return format;
}
