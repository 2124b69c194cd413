import { Logger } from '@nestjs/common';
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { CommandConnectionSource } from '../redis/topology/redis-connection-pool';
import type { RedisClient } from '../redis/topology/create-topology-client';

/** What one instance tells the others: drop these keys, or everything of a namespace (`clear`, tag invalidation). */
export interface BusMessage {
  /** Namespace. */
  readonly n: string;
  /** `k` keys, `c` clear the namespace's L1 (also sent for a tag invalidation), `h` heartbeat. */
  readonly o: 'k' | 'c' | 'h';
  readonly k?: readonly string[];
}

/** A tiered namespace's side of the bus. */
export interface BusSubscriber {
  /** Another instance changed these entries (or all of them). */
  apply(message: BusMessage): void;
  /** The bus was disconnected and is back: messages may have been missed, so the L1 must be dropped. */
  resync(): void;
}

export interface InvalidationBusOptions {
  /** HMAC-SHA256 key(s): the first signs, any verifies (for rotation). */
  secrets: readonly string[];
  channel: string;
  /** Own heartbeat period; the bus is distrusted after 3 missed heartbeats. */
  heartbeatMs: number;
}

const VERSION = 'v1';
const MISSED_HEARTBEATS = 3;

/**
 * The L1 invalidation bus on Redis pub/sub: publishes on the pool's command connections, listens on
 * the pool's dedicated subscriber connection (any topology: a Sentinel subscriber follows the
 * promoted master and re-subscribes; a Cluster one moves to another node when its node leaves). Every message is signed with HMAC-SHA256 over a shared secret and carries
 * this instance's sender id; messages that do not verify are dropped and counted (`forged`), own
 * messages are ignored.
 *
 * Trust: the L1s are trusted only while the bus is known to deliver. The bus sends itself a signed
 * heartbeat every `heartbeatMs`; it is distrusted at once when the subscriber connection closes, or
 * when no own heartbeat came back for 3 periods (a silent partition). While distrusted, tiered
 * namespaces read through to L2. It is trusted again when an own heartbeat arrives (so the
 * subscription is live); at that moment every L1 is cleared, since messages may have been missed.
 * A missed invalidation can therefore be served from L1 for at most 3 × heartbeatMs.
 */
export class InvalidationBus {
  readonly senderId = randomUUID();
  readonly counters = { published: 0, received: 0, forged: 0, ownIgnored: 0, resyncs: 0 };
  private readonly subscribers = new Map<string, BusSubscriber>();
  private readonly subscriber: RedisClient;
  private readonly logger = new Logger('CacheInvalidationBus');
  private trust = false;
  private everTrusted = false;
  private lastOwnHeartbeat = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastForgedLog = 0;
  private stopped = false;

  /**
   * `subscriber` is a connection of its own (`RedisConnectionPool.createSubscriber()`: no command
   * timeout, retries without limit, since it holds no caller's request), closed by `stop()`.
   */
  constructor(
    private readonly publisher: CommandConnectionSource,
    subscriber: RedisClient,
    private readonly options: InvalidationBusOptions,
  ) {
    this.subscriber = subscriber;
    this.subscriber.on('messageBuffer', (_channel: Buffer, message: Buffer) => this.receive(message.toString('utf8')));
    this.subscriber.on('close', () => this.distrust('the subscriber connection closed'));
    // A Cluster client's subscriber connection is internal; when a node leaves (a failover) it may have
    // been the subscriber's, and messages published meanwhile are lost: distrust until an own heartbeat.
    this.subscriber.on('-node', () => this.distrust('a cluster node left'));
    this.subscriber.on('error', () => undefined); // The pool already logs connection errors.
  }

  /** L1 hits are served only while this is true. */
  get trusted(): boolean {
    return this.trust;
  }

  register(namespace: string, subscriber: BusSubscriber): void {
    this.subscribers.set(namespace, subscriber);
  }

  /** Subscribes (in the background if Redis is down) and starts the heartbeat. */
  start(): void {
    this.subscriber.subscribe(this.options.channel).catch((error: Error) => {
      if (this.stopped) return;
      this.logger.warn(`Bus subscription failed, L1 stays distrusted until it succeeds: ${error.message}`);
    });
    this.timer = setInterval(() => this.beat(), this.options.heartbeatMs);
    this.timer.unref();
    this.beat();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.trust = false;
    // A connection closed during its handshake makes ioredis schedule a reconnect; let it finish first (bounded).
    if (this.subscriber.status === 'connecting' || this.subscriber.status === 'connect') {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1_000);
        const done = (): void => {
          clearTimeout(timer);
          resolve();
        };
        this.subscriber.once('ready', done);
        this.subscriber.once('end', done);
      });
    }
    // A subscriber holds no caller's writes: nothing to flush with a QUIT, and a QUIT issued while it
    // is not connected would only wait behind its queued SUBSCRIBE, for ever (its settings never
    // flush the offline queue). Disconnect (which also closes a Sentinel client's detector connections).
    this.subscriber.disconnect();
  }

  publish(message: BusMessage): void {
    const body = JSON.stringify({ ...message, s: this.senderId });
    const wire = `${VERSION}.${this.sign(body, this.options.secrets[0])}.${body}`;
    this.publisher.next().publish(this.options.channel, wire).then(
      () => {
        if (message.o !== 'h') this.counters.published++;
      },
      () => undefined, // L2 is down: the tier records the change and replays it at recovery.
    );
  }

  stats(): { published: number; received: number; forged: number; ownIgnored: number; resyncs: number; connected: boolean } {
    return { ...this.counters, connected: this.trust };
  }

  private beat(): void {
    if (this.trust && Date.now() - this.lastOwnHeartbeat > MISSED_HEARTBEATS * this.options.heartbeatMs) {
      this.distrust(`no own heartbeat for ${MISSED_HEARTBEATS} periods`);
    }
    this.publish({ n: '', o: 'h' });
  }

  private receive(wire: string): void {
    const message = this.verify(wire);
    if (message === undefined) {
      this.counters.forged++;
      const now = Date.now();
      if (now - this.lastForgedLog > 10_000) {
        this.lastForgedLog = now;
        this.logger.warn(`Ignored a bus message that failed HMAC verification on channel "${this.options.channel}" (${this.counters.forged} so far)`);
      }
      return;
    }
    if (message.s === this.senderId) {
      if (message.o === 'h') {
        this.lastOwnHeartbeat = Date.now();
        if (!this.trust) this.regain();
      } else {
        this.counters.ownIgnored++;
      }
      return;
    }
    if (message.o === 'h') return;
    this.counters.received++;
    this.subscribers.get(message.n)?.apply(message);
  }

  private verify(wire: string): (BusMessage & { s: string }) | undefined {
    const first = wire.indexOf('.');
    const second = wire.indexOf('.', first + 1);
    if (first < 0 || second < 0 || wire.slice(0, first) !== VERSION) return undefined;
    const mac = Buffer.from(wire.slice(first + 1, second), 'base64url');
    const body = wire.slice(second + 1);
    const valid = this.options.secrets.some((secret) => {
      const expected = Buffer.from(this.sign(body, secret), 'base64url');
      return expected.length === mac.length && timingSafeEqual(expected, mac);
    });
    if (!valid) return undefined;
    try {
      const parsed = JSON.parse(body) as BusMessage & { s: string };
      if (typeof parsed.n !== 'string' || typeof parsed.s !== 'string' || !['k', 'c', 'h'].includes(parsed.o)) return undefined;
      if (parsed.o === 'k' && (!Array.isArray(parsed.k) || !parsed.k.every((k) => typeof k === 'string'))) return undefined;
      return parsed;
    } catch {
      return undefined;
    }
  }

  private sign(body: string, secret: string): string {
    return createHmac('sha256', secret).update(body).digest('base64url');
  }

  private distrust(reason: string): void {
    if (!this.trust) return;
    this.trust = false;
    this.logger.warn(`Invalidation bus lost (${reason}): L1 reads go to L2 until it is back`);
  }

  private regain(): void {
    for (const subscriber of this.subscribers.values()) subscriber.resync();
    this.trust = true;
    if (this.everTrusted) {
      this.counters.resyncs++;
      this.logger.log('Invalidation bus restored: L1 tiers cleared and trusted again');
    }
    this.everTrusted = true;
  }
}
