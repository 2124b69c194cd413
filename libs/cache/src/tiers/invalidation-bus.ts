/*
 * Over 350 lines on purpose: one protocol (signed messages, replay refusal per sender, loss
 * detection, trust by own heartbeats) whose timers and per-sender state keep invariants together;
 * the wire format is in `bus-wire.ts`.
 */
import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { CommandConnectionSource } from '../backends/redis/topology/redis-connection-pool';
import type { RedisClient } from '../backends/redis/topology/create-topology-client';
import { BusMessage, SignedMessage, signBusMessage, verifyBusMessage } from './bus-wire';

/** A tiered namespace's side of the bus. */
export interface BusSubscriber {
  /** Another instance changed these entries (or all of them). */
  apply(message: BusMessage): void;
  /** Messages may have been missed (the bus was down, or another instance's message was lost): no L1 copy is fresh any more. */
  resync(): void;
}

export interface InvalidationBusOptions {
  /** HMAC-SHA256 key(s): the first signs, any verifies (for rotation). */
  secrets: readonly string[];
  channel: string;
  /** Own heartbeat period; the bus is distrusted after 3 periods without an own heartbeat back. */
  heartbeatMs: number;
  /** A message sent further than this from the receiver's clock (before or after) is dropped. */
  replayWindowMs: number;
}

/** What a receiver remembers of one sender (another instance, or itself), to refuse replays and notice losses. */
interface SenderState {
  /** Highest sequence number accepted. */
  highest: number;
  /**
   * Numbers below `highest` not received yet → when the gap was noticed. Messages published on
   * several connections may arrive out of order; one still missing a heartbeat period later is lost.
   */
  missing: Map<number, number> | undefined;
  /** Local time of the last accepted message. */
  lastHeard: number;
  /** Its heartbeat period: 3 of them without a message (and without a goodbye) is a loss. */
  periodMs: number;
  /** It said goodbye (`b`): its silence is not a loss. */
  gone: boolean;
  /** Its silence was already treated as a loss (once per silence). */
  silent: boolean;
}

const MISSED_HEARTBEATS = 3;
/** Out-of-order numbers tracked per sender; a larger gap is a loss at once. */
const MAX_MISSING = 256;
/** Senders remembered; at the cap the one heard from longest ago is forgotten. */
const MAX_SENDERS = 10_000;
const WARN_INTERVAL_MS = 10_000;

/**
 * The L1 invalidation bus on Redis pub/sub: publishes on the pool's command connections, listens on
 * the pool's dedicated subscriber connection (any topology: a Sentinel subscriber follows the
 * promoted master and re-subscribes; a Cluster one moves to another node when its node leaves).
 *
 * Authenticity and replays: every message is signed (HMAC-SHA256 over a shared secret) over its
 * sender's random instance id, the sender's sequence number, its send time and its content. A
 * receiver drops (and counts) a message that does not verify (`forged`), one sent further than
 * `replayWindowMs` from its own clock (`outOfWindow`), and one whose sequence number it has already
 * accepted or that is older than every number it is still waiting for (`replayed`). It remembers a
 * sender for 2 × the window after last hearing from it: any replay still inside the window finds its
 * sender remembered, so a captured message is acted on at most once per receiver, and only within
 * the window after it was sent (also across a receiver restart, since the window is clock-based).
 *
 * Trust: the L1s are trusted only while the bus is known to deliver. The bus sends itself a signed,
 * sequenced heartbeat every `heartbeatMs`; an own heartbeat that comes back proves that everything
 * published before it was delivered, so the bus is trusted until 3 heartbeat periods after that
 * heartbeat was *sent* (a timer ends it then), and at once no longer when the subscriber connection
 * closes. While distrusted, tiered namespaces read through to L2. When an own heartbeat arrives
 * again, every L1 is resynced (no copy from before is fresh), since messages may have been missed.
 * Losses of other instances' messages are noticed too: a gap in a sender's sequence still open a
 * heartbeat period after a later message revealed it, or a sender silent for 3 of its heartbeat
 * periods without a goodbye (it may have crashed between a write and its message), resyncs every L1
 * (`missed`). A timer set to the earliest such deadline checks them, so that a loss is acted on 2
 * (gap) or 3 (silence) heartbeat periods after the lost write at the latest, plus delivery time.
 */
export class InvalidationBus {
  readonly senderId = randomUUID();
  readonly counters = { published: 0, received: 0, forged: 0, replayed: 0, outOfWindow: 0, missed: 0, ownIgnored: 0, resyncs: 0 };
  private readonly subscribers = new Map<string, BusSubscriber>();
  private readonly subscriber: RedisClient;
  private readonly logger = new Logger('CacheInvalidationBus');
  /** Senders by id, in the order they were last heard from (oldest first). */
  private readonly senders = new Map<string, SenderState>();
  /** Own messages published and not received back yet: sequence number → send time. */
  private readonly ownPending = new Map<number, number>();
  private sequence = 0;
  private trust = false;
  private everTrusted = false;
  /** Until when L1 copies are known fresh: 3 periods after the send time of the last own heartbeat that came back. */
  private trustedUntil = 0;
  /** Silence of other instances counts from here (the bus was regained; they were not heard while it was down). */
  private watchingSince = 0;
  private beatTimer: NodeJS.Timeout | undefined;
  private trustTimer: NodeJS.Timeout | undefined;
  /** Fires at the earliest loss deadline of the senders (`watchDeadline`): silence or a gap left open. */
  private watchTimer: NodeJS.Timeout | undefined;
  private watchDeadline = Number.POSITIVE_INFINITY;
  private readonly lastWarn = new Map<string, number>();
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

  /**
   * Whether an L1 copy filled since the last resync is still within the staleness bound at `now`
   * (3 heartbeat periods after the last own heartbeat that came back), even if the subscriber
   * connection has closed since: what a fallback read may answer as fresh while L2 is down.
   */
  confirmedAt(now: number): boolean {
    return now < this.trustedUntil;
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
    this.beatTimer = setInterval(() => this.beat(), this.options.heartbeatMs);
    this.beatTimer.unref();
    this.beat();
  }

  async stop(): Promise<void> {
    if (!this.stopped) this.publish({ n: '', o: 'b' }); // The others do not take this instance's silence for a loss.
    this.stopped = true;
    clearInterval(this.beatTimer);
    clearTimeout(this.trustTimer);
    clearTimeout(this.watchTimer);
    this.trust = false;
    this.trustedUntil = 0;
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
    if (this.stopped) return;
    const sequence = ++this.sequence;
    const sentAt = Date.now();
    const signed: SignedMessage = message.o === 'h'
      ? { ...message, s: this.senderId, q: sequence, t: sentAt, p: this.options.heartbeatMs }
      : { ...message, s: this.senderId, q: sequence, t: sentAt };
    const body = JSON.stringify(signed);
    const wire = signBusMessage(body, this.options.secrets[0], this.options.channel);
    this.ownPending.set(sequence, sentAt);
    this.publisher.next().publish(this.options.channel, wire).then(
      () => {
        if (message.o === 'k' || message.o === 'c') this.counters.published++;
      },
      // L2 is down: the tier records its own changes and replays them at recovery; the receivers
      // notice the gap in this instance's sequence at its next heartbeat.
      () => this.ownPending.delete(sequence),
    );
  }

  stats(): {
    published: number; received: number; forged: number; replayed: number; outOfWindow: number; missed: number;
    ownIgnored: number; resyncs: number; connected: boolean;
  } {
    return { ...this.counters, connected: this.trust };
  }

  private beat(): void {
    this.forgetOld(Date.now());
    this.publish({ n: '', o: 'h' });
  }

  private receive(wire: string): void {
    if (this.stopped) return;
    const message = verifyBusMessage(wire, this.options.secrets, this.options.channel);
    if (message === undefined) {
      this.counters.forged++;
      this.warn('forged', `Ignored a bus message that failed HMAC verification on channel "${this.options.channel}" (${this.counters.forged} so far)`);
      return;
    }
    const now = Date.now();
    if (Math.abs(now - message.t) > this.options.replayWindowMs) {
      this.counters.outOfWindow++;
      this.warn('outOfWindow', `Ignored a signed bus message sent outside the replay window (${this.options.replayWindowMs} ms) of this instance's clock: a replay, or an instance whose clock is off (${this.counters.outOfWindow} so far)`);
      return;
    }
    const own = message.s === this.senderId;
    if (own ? !this.ownPending.delete(message.q) : !this.admit(message, now)) {
      this.counters.replayed++;
      this.warn('replayed', `Ignored a replayed bus message on channel "${this.options.channel}" (${this.counters.replayed} so far)`);
      return;
    }
    if (own) {
      if (message.o === 'h') this.ownHeartbeat(message.t, now);
      else this.counters.ownIgnored++;
      return;
    }
    if (message.o === 'h' || message.o === 'b') return;
    this.counters.received++;
    this.subscribers.get(message.n)?.apply(message);
  }

  /** Another instance's message: accepted once, in its sequence (a late one fills its gap). */
  private admit(message: SignedMessage, now: number): boolean {
    const { s: sender, q: sequence } = message;
    let state = this.senders.get(sender);
    if (state === undefined) {
      if (this.senders.size >= MAX_SENDERS) this.senders.delete(this.senders.keys().next().value!);
      state = { highest: sequence, missing: undefined, lastHeard: now, periodMs: this.options.heartbeatMs, gone: false, silent: false };
    } else if (sequence > state.highest) {
      const gap = sequence - state.highest - 1;
      if (gap > 0) {
        if (gap + (state.missing?.size ?? 0) > MAX_MISSING) {
          state.missing = undefined;
          this.missed('a gap in another instance\'s messages');
        } else {
          state.missing ??= new Map();
          for (let n = state.highest + 1; n < sequence; n++) state.missing.set(n, now);
          this.watchAt(now + state.periodMs);
        }
      }
      state.highest = sequence;
    } else if (state.missing?.delete(sequence) !== true) {
      return false;
    }
    this.senders.delete(sender); // Re-inserted last: the map stays ordered by when each sender was heard.
    this.senders.set(sender, state);
    state.lastHeard = now;
    state.silent = false;
    if (message.o === 'h') state.periodMs = message.p!;
    else if (message.o === 'b') state.gone = true;
    if (!state.gone) this.watchAt(now + MISSED_HEARTBEATS * state.periodMs);
    return true;
  }

  /** Makes the watch timer fire by `deadline` (it is only ever moved earlier here; `watch` sets the next one). */
  private watchAt(deadline: number): void {
    if (this.stopped || deadline >= this.watchDeadline) return;
    this.watchDeadline = deadline;
    clearTimeout(this.watchTimer);
    this.watchTimer = setTimeout(() => this.watch(), Math.max(0, deadline - Date.now()));
    this.watchTimer.unref();
  }

  /**
   * Losses due by now: a gap still open a period after it was noticed, or an instance silent for 3
   * of its periods without a goodbye (it may have crashed between a write and its message). Then
   * sets the timer to the next deadline.
   */
  private watch(): void {
    const now = Date.now();
    this.watchDeadline = Number.POSITIVE_INFINITY;
    if (!this.trust) return; // Regaining the bus resyncs anyway, and starts watching again.
    let next = Number.POSITIVE_INFINITY;
    let lost: string | undefined;
    for (const state of this.senders.values()) {
      for (const [sequence, noticed] of state.missing ?? []) {
        if (noticed + state.periodMs <= now) {
          state.missing!.delete(sequence);
          lost = 'a message of another instance was lost';
        } else {
          next = Math.min(next, noticed + state.periodMs);
        }
      }
      if (state.gone || state.silent) continue;
      const silentAt = Math.max(state.lastHeard, this.watchingSince) + MISSED_HEARTBEATS * state.periodMs;
      if (silentAt <= now) {
        state.silent = true;
        lost ??= 'another instance went silent without a goodbye';
      } else {
        next = Math.min(next, silentAt);
      }
    }
    if (lost !== undefined) this.missed(lost);
    if (next !== Number.POSITIVE_INFINITY) this.watchAt(next);
  }

  private ownHeartbeat(sentAt: number, now: number): void {
    // Own messages sent a period before this heartbeat and not back yet were lost: a later copy is a replay.
    for (const [sequence, sent] of this.ownPending) {
      if (sent >= sentAt - this.options.heartbeatMs) break;
      this.ownPending.delete(sequence);
    }
    const until = sentAt + MISSED_HEARTBEATS * this.options.heartbeatMs;
    if (until <= now) return; // Too late to vouch for anything.
    this.trustedUntil = Math.max(this.trustedUntil, until);
    clearTimeout(this.trustTimer);
    this.trustTimer = setTimeout(() => {
      if (Date.now() >= this.trustedUntil) this.distrust(`no own heartbeat for ${MISSED_HEARTBEATS} periods`);
    }, this.trustedUntil - now);
    this.trustTimer.unref();
    if (!this.trust) this.regain(now);
  }

  /** Forgets senders not heard from for 2 × the window (no replay of theirs can pass the window any more), and own messages never received. */
  private forgetOld(now: number): void {
    for (const [sender, state] of this.senders) {
      if (now - state.lastHeard <= 2 * this.options.replayWindowMs) break;
      this.senders.delete(sender);
    }
    for (const [sequence, sentAt] of this.ownPending) {
      if (now - sentAt <= this.options.replayWindowMs) break;
      this.ownPending.delete(sequence);
    }
  }

  private missed(reason: string): void {
    // While distrusted, the resync comes when the bus is regained.
    if (!this.trust) return;
    this.counters.missed++;
    this.resyncAll();
    this.warn('missed', `Invalidation bus: ${reason}; L1 tiers resynced (${this.counters.missed} so far)`);
  }

  private distrust(reason: string): void {
    if (!this.trust) return;
    this.trust = false;
    this.logger.warn(`Invalidation bus lost (${reason}): L1 reads go to L2 until it is back`);
  }

  private regain(now: number): void {
    this.resyncAll();
    this.trust = true;
    // Whatever went missing while the bus was down is covered by this resync; silence counts from now.
    this.watchingSince = now;
    for (const state of this.senders.values()) {
      state.missing = undefined;
      state.silent = false;
    }
    this.watchAt(now);
    if (this.everTrusted) {
      this.counters.resyncs++;
      this.logger.log('Invalidation bus restored: L1 tiers resynced and trusted again');
    }
    this.everTrusted = true;
  }

  private resyncAll(): void {
    for (const subscriber of this.subscribers.values()) subscriber.resync();
  }

  /** One warning per kind per 10 s: a flood of bad messages must not flood the logs. */
  private warn(kind: string, line: string): void {
    const now = Date.now();
    if (now - (this.lastWarn.get(kind) ?? 0) < WARN_INTERVAL_MS) return;
    this.lastWarn.set(kind, now);
    this.logger.warn(line);
  }
}
