/*
 * Over 350 lines on purpose: one protocol (the redirect connection, CLIENT TRACKING on every command
 * connection of every tracked server, trust by PINGs, resync after a loss) whose per-server links and
 * the trust they add up to keep invariants together; the servers per topology are in `tracked-nodes.ts`.
 */
import { Logger } from '@nestjs/common';
import type { RedisClient } from '../backends/redis/topology/create-topology-client';
import { L1Trust } from './l1-trust';

/** The pub/sub channel Redis publishes invalidations on for a RESP2 redirect target. */
export const INVALIDATION_CHANNEL = '__redis__:invalidate';

/** What a tiered namespace hands key tracking: its key prefix in Redis and what to do on a change. */
export interface KeyTrackingListener {
  /** These keys (without the prefix) changed in Redis; `null`: the database was flushed. */
  invalidate(keys: readonly string[] | null): void;
  /** Changes may have been missed (tracking was lost and is back): no L1 copy is fresh any more. */
  resync(): void;
}

/** What a `TwoTierStore` sees of key tracking. */
export interface KeyTrackingSource extends L1Trust {
  register(prefix: string, listener: KeyTrackingListener): void;
  stats(): { invalidations: number; flushes: number; resyncs: number; lost: number; connected: boolean };
}

/**
 * One Redis server and the connections to it that key tracking involves: the command connections
 * whose writes and reads the library makes there, and the redirect connection opened for them.
 */
export interface TrackedNode {
  /** `host:port`: the same server keeps its link while its connections stay the same. */
  readonly key: string;
  readonly commandConnections: readonly RedisClient[];
  createRedirect(): RedisClient;
}

/** The servers tracking runs on: one master (standalone, Sentinel), or every master of a Cluster. */
export interface TrackedTopology {
  nodes(): TrackedNode[];
  /** Calls `changed` when the servers may have changed (a Cluster's slots were refreshed, a node came or left); returns the undo. */
  watch(changed: () => void): () => void;
  /** Whether servers with these keys own every key there is (a Cluster: every slot's master). */
  covers(keys: ReadonlySet<string>): boolean;
  /** Asks for the servers again (a Cluster client refreshes its slots only when a command meets a change). */
  refresh(): void;
}

const MISSED_HEARTBEATS = 3;
const WARN_INTERVAL_MS = 10_000;

/**
 * L1 coherence driven by Redis itself (server-assisted client-side caching, RESP2 and RESP3 alike):
 * every command connection runs `CLIENT TRACKING on REDIRECT <id> BCAST PREFIX <p>... NOLOOP`, where
 * `<id>` is a dedicated connection of this instance subscribed to `__redis__:invalidate` and each
 * `<p>` a tracked namespace's key prefix. Redis then tells this instance about every change of those
 * keys, whoever made it (another service, `redis-cli`, another instance), except the changes made on
 * that same command connection (NOLOOP: this instance's own writes, which its L1 already holds).
 *
 * BCAST rather than per-key tracking: nothing is kept on the Redis side per key read, and a write
 * this instance made and kept in its L1 is covered without a read (per-key tracking only covers keys
 * the connection read after their last change). See docs/resilience-and-tiers.md for the figures.
 *
 * Trust, like the bus's: the L1s are trusted only while tracking is known to deliver, i.e. the
 * redirect connection is subscribed, every command connection acknowledged `CLIENT TRACKING` with
 * that connection's id since it last (re)connected, on the same server (its `run_id`: after a
 * Sentinel failover a command connection may reach the new master before the redirect does), and a
 * PING sent on the redirect connection after all that came back (it follows every invalidation Redis
 * queued before it) within 3 heartbeat periods. A closed connection distrusts at once; when all is
 * back, every L1 is resynced first (changes made meanwhile were not announced).
 */
export class RedisKeyTracking implements KeyTrackingSource {
  readonly counters = { invalidations: 0, flushes: 0, resyncs: 0, lost: 0 };
  private readonly logger = new Logger('CacheKeyTracking');
  private readonly listeners: { prefix: string; listener: KeyTrackingListener }[] = [];
  private readonly links = new Map<string, TrackingLink>();
  private unwatch: (() => void) | undefined;
  private beatTimer: NodeJS.Timeout | undefined;
  private trustTimer: NodeJS.Timeout | undefined;
  private trust = false;
  private everTrusted = false;
  private trustedUntil = 0;
  private stopped = false;
  private lastWarn = 0;

  constructor(private readonly topology: TrackedTopology, private readonly heartbeatMs: number) {}

  get trusted(): boolean {
    return this.trust;
  }

  confirmedAt(now: number): boolean {
    return now < this.trustedUntil;
  }

  register(prefix: string, listener: KeyTrackingListener): void {
    this.listeners.push({ prefix, listener });
    // Longest first: a key goes to the namespace with the most specific prefix.
    this.listeners.sort((a, b) => b.prefix.length - a.prefix.length);
  }

  /** The prefixes given to Redis: no two may overlap, so one covered by a shorter one is left out. */
  get trackedPrefixes(): string[] {
    const sorted = [...new Set(this.listeners.map((l) => l.prefix))].sort((a, b) => a.length - b.length);
    return sorted.filter((p, i) => !sorted.slice(0, i).some((shorter) => p.startsWith(shorter)));
  }

  start(): void {
    if (this.listeners.length === 0) return;
    this.reconcile();
    this.unwatch = this.topology.watch(() => this.reconcile());
    this.beatTimer = setInterval(() => this.beat(), this.heartbeatMs);
    this.beatTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.beatTimer);
    clearTimeout(this.trustTimer);
    this.trust = false;
    this.trustedUntil = 0;
    this.unwatch?.();
    const links = [...this.links.values()];
    this.links.clear();
    await Promise.all(links.map((link) => link.stop()));
  }

  /**
   * One link per server of the topology: a new master (a Cluster failover, a node added) gets one, and
   * one that left or whose connections were replaced is stopped. A new link is not armed yet: the L1s
   * are distrusted until it is, then resynced (changes there were not announced until then).
   */
  private reconcile(): void {
    if (this.stopped) return;
    const wanted = new Map(this.topology.nodes().map((n) => [n.key, n]));
    let added = false;
    for (const [key, link] of this.links) {
      const node = wanted.get(key);
      if (node === undefined || !link.serves(node)) {
        void link.stop();
        this.links.delete(key);
      }
    }
    for (const [key, node] of wanted) {
      if (this.links.has(key)) continue;
      const link = new TrackingLink(node, this.trackedPrefixes, this);
      this.links.set(key, link);
      link.start();
      added = true;
    }
    if (added) this.lost('a server to track was added');
  }

  stats(): { invalidations: number; flushes: number; resyncs: number; lost: number; connected: boolean } {
    return { ...this.counters, connected: this.trust };
  }

  /** An invalidation message from Redis: the changed keys, or `null` (FLUSHALL / FLUSHDB). */
  received(payload: unknown): void {
    if (this.stopped) return;
    if (payload === null || payload === undefined) {
      this.counters.flushes++;
      for (const { listener } of this.listeners) listener.invalidate(null);
      return;
    }
    if (!Array.isArray(payload)) return;
    const byListener = new Map<KeyTrackingListener, string[]>();
    for (const raw of payload) {
      const key = Buffer.isBuffer(raw) ? raw.toString('utf8') : String(raw);
      const owner = this.listeners.find((l) => key.startsWith(l.prefix));
      if (owner === undefined) continue;
      const rest = key.slice(owner.prefix.length);
      // Tag sets and locks live under the prefix behind a U+001F mark; no entry key has one.
      if (rest.charCodeAt(0) === 0x1f) continue;
      let keys = byListener.get(owner.listener);
      if (keys === undefined) byListener.set(owner.listener, keys = []);
      keys.push(rest);
    }
    for (const [listener, keys] of byListener) {
      this.counters.invalidations += keys.length;
      listener.invalidate(keys);
    }
  }

  /** A link lost its redirect or a command connection: changes may go unannounced from now on. */
  lost(reason: string): void {
    if (!this.trust || this.stopped) return;
    this.trust = false;
    this.counters.lost++;
    this.warn(`Redis key tracking lost (${reason}): L1 reads of tracking namespaces go to Redis until it is back`);
  }

  /** A link proved delivery up to `sentAt`; trusted when every link has, until 3 periods after the oldest proof. */
  confirmed(): void {
    if (this.stopped) return;
    const now = Date.now();
    let until = Number.POSITIVE_INFINITY;
    for (const link of this.links.values()) until = Math.min(until, link.provenAt + MISSED_HEARTBEATS * this.heartbeatMs);
    if (until <= now || this.links.size === 0) return;
    this.trustedUntil = Math.max(this.trustedUntil, until);
    clearTimeout(this.trustTimer);
    this.trustTimer = setTimeout(() => {
      if (Date.now() >= this.trustedUntil) this.lost(`no answer on the redirect connection for ${MISSED_HEARTBEATS} periods`);
    }, this.trustedUntil - now);
    this.trustTimer.unref();
    if (this.trust || [...this.links.values()].some((l) => !l.armed) || !this.topology.covers(new Set(this.links.keys()))) return;
    for (const { listener } of this.listeners) listener.resync();
    this.trust = true;
    if (this.everTrusted) {
      this.counters.resyncs++;
      this.logger.log('Redis key tracking restored: L1 tiers resynced and trusted again');
    }
    this.everTrusted = true;
  }

  private beat(): void {
    // A server gone and no successor known yet (no command of ours met the change): look for it.
    if (!this.trust && !this.topology.covers(new Set(this.links.keys()))) this.topology.refresh();
    for (const link of this.links.values()) link.beat();
  }

  warn(line: string): void {
    const now = Date.now();
    if (now - this.lastWarn < WARN_INTERVAL_MS) return;
    this.lastWarn = now;
    this.logger.warn(line);
  }
}

/**
 * Tracking on one server: its redirect connection (`CLIENT ID`, its server's `run_id`, SUBSCRIBE,
 * again after every reconnect) and `CLIENT TRACKING` on each command connection to that server (again
 * after either side reconnects). `armed` once all acknowledged for the current redirect; `provenAt`
 * is the send time of the last PING answered after that.
 */
class TrackingLink {
  armed = false;
  provenAt = 0;
  private readonly redirect: RedisClient;
  private redirectId: number | undefined;
  private runId: string | undefined;
  /** Bumped whenever the redirect connects or closes: answers of an older one are ignored. */
  private generation = 0;
  /** Command connections that acknowledged tracking for `generation` since they last (re)connected. */
  private readonly enabled = new Set<RedisClient>();
  /** Bumped when a command connection closes, to ignore an acknowledgement from before. */
  private readonly closes = new Map<RedisClient, number>();
  /** When the link was last armed: only a PING sent after it proves anything. */
  private armedAt = 0;
  private readonly undo: (() => void)[] = [];
  private stopped = false;

  constructor(private readonly node: TrackedNode, private readonly prefixes: readonly string[], private readonly owner: RedisKeyTracking) {
    this.redirect = node.createRedirect();
  }

  /** Whether this link still stands for `node` (the same command connections). */
  serves(node: TrackedNode): boolean {
    const own = this.node.commandConnections;
    return own.length === node.commandConnections.length && own.every((c, i) => c === node.commandConnections[i]);
  }

  start(): void {
    this.redirect.on('messageBuffer', (channel: Buffer, payload: unknown) => {
      if (channel.toString() === INVALIDATION_CHANNEL) this.owner.received(payload);
    });
    this.redirect.on('ready', () => void this.redirectReady());
    this.redirect.on('close', () => this.redirectClosed());
    this.redirect.on('error', () => undefined); // The pool logs connection errors.
    for (const connection of this.node.commandConnections) {
      const ready = (): void => void this.enable(connection);
      const closed = (): void => {
        this.closes.set(connection, (this.closes.get(connection) ?? 0) + 1);
        if (this.enabled.delete(connection)) this.disarm('a command connection closed');
      };
      connection.on('ready', ready);
      connection.on('close', closed);
      this.undo.push(() => connection.off('ready', ready), () => connection.off('close', closed));
      // A Cluster's node connections connect on their first command; tracking must not wait for one.
      if (connection.status === 'wait') connection.connect().catch(() => undefined);
    }
    this.redirect.connect().catch(() => undefined); // Retries in the background; the pool logs why.
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const undo of this.undo.splice(0)) undo();
    // A connection closed during its handshake makes ioredis schedule a reconnect; let it finish first (bounded).
    if (this.redirect.status === 'connecting' || this.redirect.status === 'connect') {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1_000);
        const done = (): void => {
          clearTimeout(timer);
          resolve();
        };
        this.redirect.once('ready', done);
        this.redirect.once('end', done);
      });
    }
    // A subscriber holds no caller's request: disconnect, do not QUIT (see InvalidationBus.stop).
    this.redirect.disconnect();
  }

  beat(): void {
    if (this.stopped || this.redirectId === undefined) return;
    const generation = this.generation;
    const sentAt = Date.now();
    this.redirect.ping().then((reply: unknown) => {
      if (generation !== this.generation || !this.armed || sentAt < this.armedAt) return;
      // A subscribed RESP2 connection answers PING with an array; one that speaks RESP3 gets its
      // invalidations as push messages, not on the channel this link reads: it must never be trusted.
      if (!Array.isArray(reply)) {
        this.owner.warn('Redis key tracking: the redirect connection does not speak RESP2, so invalidations would arrive as push messages this version does not read; L1 reads of tracking namespaces go to Redis');
        return;
      }
      this.provenAt = Math.max(this.provenAt, sentAt);
      this.owner.confirmed();
    }, () => undefined);
  }

  private async redirectReady(): Promise<void> {
    const generation = ++this.generation;
    try {
      const id = await this.redirect.client('ID') as number;
      const runId = runIdOf(await this.redirect.info('server'));
      await this.redirect.subscribe(INVALIDATION_CHANNEL);
      if (generation !== this.generation || this.stopped) return;
      this.redirectId = Number(id);
      this.runId = runId;
    } catch (error) {
      if (generation === this.generation && !this.stopped) {
        this.owner.warn(`Redis key tracking: the redirect connection could not be set up (${(error as Error).message}); it is tried again when it reconnects`);
        this.redirect.disconnect(true);
      }
      return;
    }
    this.enabled.clear();
    await Promise.all(this.node.commandConnections.filter((c) => c.status === 'ready').map((c) => this.enable(c)));
  }

  private redirectClosed(): void {
    this.generation++;
    this.redirectId = undefined;
    this.enabled.clear();
    this.disarm('the redirect connection closed');
  }

  /** `CLIENT TRACKING` on one command connection, redirected to the current redirect connection. */
  private async enable(connection: RedisClient): Promise<void> {
    const id = this.redirectId;
    if (id === undefined || this.stopped) return;
    const generation = this.generation;
    const closes = this.closes.get(connection) ?? 0;
    const prefixes = this.prefixes.flatMap((p) => ['PREFIX', p]);
    let replies: [Error | null, unknown][] | null;
    try {
      // Off first: tracking already on (an older redirect) refuses the same prefixes again.
      replies = await connection.pipeline()
        .info('server')
        .client('TRACKING', 'OFF')
        .client('TRACKING', 'ON', 'REDIRECT', String(id), 'BCAST', ...prefixes, 'NOLOOP')
        .exec();
    } catch (error) {
      replies = [[error as Error, undefined]];
    }
    const failed = replies === null ? 'the pipeline was discarded' : replies.find(([error]) => error !== null)?.[0]?.message;
    if (failed !== undefined || replies === null) {
      if (generation === this.generation && !this.stopped) {
        this.owner.warn(`Redis key tracking could not be enabled on a command connection (${failed}); L1 reads of tracking namespaces go to Redis`);
      }
      return;
    }
    const runId = runIdOf(replies[0][1]);
    if (generation !== this.generation || closes !== (this.closes.get(connection) ?? 0) || this.stopped) return;
    // Another server than the redirect's (a failover under way): the redirect follows, then enables again.
    if (runId !== this.runId) return;
    this.enabled.add(connection);
    if (!this.armed && this.node.commandConnections.every((c) => this.enabled.has(c))) {
      this.armed = true;
      this.armedAt = Date.now();
      this.beat();
    }
  }

  private disarm(reason: string): void {
    this.armed = false;
    this.owner.lost(reason);
  }
}

/** The `run_id` of an `INFO server` answer (text in RESP2 and RESP3 alike). */
function runIdOf(info: unknown): string | undefined {
  const text = Buffer.isBuffer(info) ? info.toString() : String(info);
  return /^run_id:(\w+)/m.exec(text)?.[1];
}
