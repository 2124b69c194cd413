/**
 * The L2 payload of a tiered namespace carries its logical expiry (and early-refresh time) in a small
 * envelope in front of the codec's payload: `\x1e<freshUntil base36>[:<refreshAt base36>]\x1e<body>`
 * (ms since epoch; 0 = never). L2 keeps the entry `grace` longer than its TTL, so the envelope is
 * what says whether it is still fresh. With encryption on, the body is sealed for the key and the
 * envelope's text, so the times cannot be forged or stripped.
 */
const SEPARATOR = '\u001e';

/** An L2 payload taken apart. `times` is the envelope's text as stored ('' without one): what an encrypted body was sealed with. */
export interface OpenedEnvelope<Body extends string | Buffer = string> {
  readonly freshUntil: number;
  readonly refreshAt: number;
  readonly times: string;
  readonly body: Body;
}

/** The envelope's text: logical expiry, and early-refresh time when there is one, in base 36. */
export function envelopeTimes(freshUntil: number, refreshAt: number): string {
  return refreshAt > 0 ? `${freshUntil.toString(36)}:${refreshAt.toString(36)}` : freshUntil.toString(36);
}

/** The envelope in front of a body: text for a text body, bytes (the envelope in ASCII) for a binary one. */
export function wrapEnvelope(times: string, body: string): string;
export function wrapEnvelope(times: string, body: string | Buffer): string | Buffer;
export function wrapEnvelope(times: string, body: string | Buffer): string | Buffer {
  if (typeof body === 'string') return SEPARATOR + times + SEPARATOR + body;
  const head = SEPARATOR + times + SEPARATOR;
  const out = Buffer.allocUnsafe(head.length + body.length);
  out.write(head, 0, 'latin1');
  body.copy(out, head.length);
  return out;
}

/** A payload without a (valid) envelope was written by a namespace without tiers: its expiry is unknown. */
export function openEnvelope(payload: string): OpenedEnvelope;
export function openEnvelope<P extends string | Buffer>(payload: P): OpenedEnvelope<P>;
export function openEnvelope(payload: string | Buffer): OpenedEnvelope<string | Buffer> {
  if (typeof payload !== 'string') return openBinaryEnvelope(payload);
  if (payload.charCodeAt(0) !== 0x1e) return { freshUntil: 0, refreshAt: 0, times: '', body: payload };
  const end = payload.indexOf(SEPARATOR, 1);
  const times = end > 0 ? payload.slice(1, end) : '';
  const [fresh, refresh] = times.split(':');
  const freshUntil = parseInt(fresh, 36);
  const refreshAt = refresh === undefined ? 0 : parseInt(refresh, 36);
  if (!Number.isFinite(freshUntil) || !Number.isFinite(refreshAt)) return { freshUntil: 0, refreshAt: 0, times: '', body: payload };
  return { freshUntil, refreshAt, times, body: payload.slice(end + 1) };
}

/** The same on bytes: the envelope is ASCII, the body whatever follows it. */
function openBinaryEnvelope(payload: Buffer): OpenedEnvelope<Buffer> {
  const end = payload[0] === 0x1e ? payload.indexOf(0x1e, 1) : -1;
  const opened = end > 0 ? openEnvelope(payload.toString('latin1', 0, end + 1)) : undefined;
  if (opened === undefined || opened.times === '') return { freshUntil: 0, refreshAt: 0, times: '', body: payload };
  return { ...opened, body: payload.subarray(end + 1) };
}

/** Two bodies (or payloads) are the same bytes. */
export function samePayload(a: unknown, b: unknown): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  return Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b);
}
