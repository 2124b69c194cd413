import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The invalidation bus's wire format: `v3.<HMAC-SHA256 base64url>.<JSON body>`, the body holding the
 * message with its sender id, sequence number and send time, so that all of them are authenticated.
 * The MAC also covers the channel it is published on (not sent: the receiver knows it), so that a
 * message captured on one app's bus (another key prefix, another `bus.channel`) does not verify on
 * another's that shares the secret.
 */
const VERSION = 'v3';

/** What one instance tells the others: drop these keys, or everything of a namespace (`clear`, tag invalidation). */
export interface BusMessage {
  /** Namespace. */
  readonly n: string;
  /** `k` keys, `c` clear the namespace's L1 (also sent for a tag invalidation), `h` heartbeat, `b` this instance stops. */
  readonly o: 'k' | 'c' | 'h' | 'b';
  readonly k?: readonly string[];
}

/** A message as signed on the wire: who sent it, its place in the sender's sequence, and when. */
export interface SignedMessage extends BusMessage {
  /** Sender instance id (random per start). */
  readonly s: string;
  /** The sender's sequence number: 1, 2, 3… for every message it publishes, heartbeats included. */
  readonly q: number;
  /** Sent at (ms since epoch, the sender's clock). */
  readonly t: number;
  /** Heartbeats: the sender's heartbeat period (ms), by which its silence is judged. */
  readonly p?: number;
}

/** The wire text of `body` (a `SignedMessage` as JSON) for `channel`, signed with `secret`. */
export function signBusMessage(body: string, secret: string, channel: string): string {
  return `${VERSION}.${mac(channel, body, secret)}.${body}`;
}

/** The message of `wire` received on `channel` if it verifies under one of `secrets` and is well formed; undefined otherwise (forged). */
export function verifyBusMessage(wire: string, secrets: readonly string[], channel: string): SignedMessage | undefined {
  const first = wire.indexOf('.');
  const second = wire.indexOf('.', first + 1);
  if (first < 0 || second < 0 || wire.slice(0, first) !== VERSION) return undefined;
  const received = Buffer.from(wire.slice(first + 1, second), 'base64url');
  const body = wire.slice(second + 1);
  const valid = secrets.some((secret) => {
    const expected = Buffer.from(mac(channel, body, secret), 'base64url');
    return expected.length === received.length && timingSafeEqual(expected, received);
  });
  if (!valid) return undefined;
  try {
    const parsed = JSON.parse(body) as SignedMessage;
    if (typeof parsed.n !== 'string' || typeof parsed.s !== 'string' || !['k', 'c', 'h', 'b'].includes(parsed.o)) return undefined;
    if (!Number.isSafeInteger(parsed.q) || parsed.q < 1 || !Number.isFinite(parsed.t)) return undefined;
    if (parsed.o === 'h' && !(typeof parsed.p === 'number' && parsed.p > 0 && parsed.p <= 3_600_000)) return undefined;
    if (parsed.o === 'k' && (!Array.isArray(parsed.k) || !parsed.k.every((k) => typeof k === 'string'))) return undefined;
    return parsed;
  } catch {
    return undefined;
  }
}

function mac(channel: string, body: string, secret: string): string {
  // The channel's length first: no channel and body can be read as another pair.
  return createHmac('sha256', secret).update(`${channel.length}:${channel}\n`).update(body).digest('base64url');
}
