// L1 coherence by Redis key tracking: what it costs and how fast it is, on one redis-server.
// 1. Per-key tracking vs BCAST PREFIX (raw ioredis, two "instances", 100k keys read by each): Redis
//    memory and CPU (INFO), and invalidation messages per instance for writes of keys it holds / not.
// 2. Invalidation latency, interleaved: an external write (plain ioredis) until a tracking L1 drops
//    its copy, next to a library write until the other instance's bus-coherent L1 drops its copy.
// 3. Write throughput (c=64, interleaved rounds) of keys under a tracked prefix vs an untracked one,
//    with Redis CPU per 1000 writes; and library sets of a tracking vs a bus namespace.
// 4. The L1 hit path of a tracking namespace vs a bus namespace (interleaved rounds).
// Ratios: trackingVsBusLatencyP50 (bus p50 / tracking p50), trackedVsUntrackedWrites, trackingVsBusLibrarySets, l1HitTrackingVsBus.
'use strict';
require('reflect-metadata');
const { randomBytes } = require('node:crypto');
const { startRedisServer } = require('../test/support/redis-server');
const { median, percentile, printTable, writeResults, runBench, formatOps, formatSpread, spread, measure, asyncLoop, ratioOfRounds, gc } = require('./harness');

const KEYS = 100_000;
const TRIALS = 300;
const WARMUP_TRIALS = 20;
const ROUNDS = 5;
const ROUND_SECONDS = 1;
const CONCURRENCY = 64;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function info(redis, section, field) {
  const text = await redis.info(section);
  const match = new RegExp(`^${field}:([\\d.]+)`, 'm').exec(text);
  return match === null ? NaN : Number(match[1]);
}

async function redisCpu(redis) {
  return (await info(redis, 'cpu', 'used_cpu_user')) + (await info(redis, 'cpu', 'used_cpu_sys'));
}

/** One simulated instance: a command connection tracking into its own redirect connection, counting invalidated keys. */
async function trackingClient(Redis, port, mode) {
  const redirect = new Redis(port, '127.0.0.1');
  const command = new Redis(port, '127.0.0.1');
  const id = await redirect.client('ID');
  await redirect.subscribe('__redis__:invalidate');
  const counts = { keys: 0, messages: 0 };
  redirect.on('messageBuffer', (_channel, payload) => {
    counts.messages++;
    counts.keys += Array.isArray(payload) ? payload.length : 0;
  });
  const args = mode === 'bcast' ? ['REDIRECT', id, 'BCAST', 'PREFIX', 'k:', 'NOLOOP'] : ['REDIRECT', id, 'NOLOOP'];
  await command.client('TRACKING', 'ON', ...args);
  return { redirect, command, counts, close: () => { redirect.disconnect(); command.disconnect(); } };
}

async function readAll(client, keys) {
  for (let i = 0; i < keys.length; i += 1000) {
    const pipeline = client.pipeline();
    for (const key of keys.slice(i, i + 1000)) pipeline.get(key);
    await pipeline.exec();
  }
}

async function writeAll(client, keys, value) {
  for (let i = 0; i < keys.length; i += 1000) {
    const pipeline = client.pipeline();
    for (const key of keys.slice(i, i + 1000)) pipeline.set(key, value);
    await pipeline.exec();
  }
}

/** Part 1: the server-side cost of each mode, and the messages it sends. */
async function compareModes(Redis, port, admin) {
  const keys = Array.from({ length: KEYS }, (_, i) => `k:${i}`);
  const other = Array.from({ length: 10_000 }, (_, i) => `k:other:${i}`);
  const writer = new Redis(port, '127.0.0.1');
  const rows = [];
  const figures = {};
  for (const mode of ['none', 'keys', 'bcast']) {
    await admin.flushall();
    await writeAll(writer, keys, 'v'.repeat(100));
    await sleep(50);
    gc();
    const clients = mode === 'none'
      ? [{ command: new Redis(port, '127.0.0.1'), counts: { keys: 0, messages: 0 }, close() { this.command.disconnect(); } }, { command: new Redis(port, '127.0.0.1'), counts: { keys: 0, messages: 0 }, close() { this.command.disconnect(); } }]
      : [await trackingClient(Redis, port, mode), await trackingClient(Redis, port, mode)];
    const memoryBefore = await info(admin, 'memory', 'used_memory');
    const cpuBefore = await redisCpu(admin);
    for (const c of clients) await readAll(c.command, keys);
    const readCpu = (await redisCpu(admin)) - cpuBefore;
    const memory = (await info(admin, 'memory', 'used_memory')) - memoryBefore;
    const trackedItems = await info(admin, 'stats', 'tracking_total_items');
    // Writes by another client: 10k keys both instances read, then 10k keys nobody read.
    const writeCpuBefore = await redisCpu(admin);
    await writeAll(writer, keys.slice(0, 10_000), 'w');
    const writeCpu = (await redisCpu(admin)) - writeCpuBefore;
    await sleep(200);
    const heldMessages = clients[0].counts.keys;
    await writeAll(writer, other, 'w');
    await sleep(200);
    const otherMessages = clients[0].counts.keys - heldMessages;
    for (const c of clients) c.close();
    figures[mode] = { memoryBytes: memory, trackedItems, readCpuMs: readCpu * 1000, writeCpuMs: writeCpu * 1000, heldMessages, otherMessages };
    rows.push([
      mode, `${(memory / 1024 / 1024).toFixed(2)} MB`, String(trackedItems), `${(readCpu * 1000).toFixed(0)} ms`, `${(writeCpu * 1000).toFixed(0)} ms`,
      String(heldMessages), String(otherMessages),
    ]);
  }
  writer.disconnect();
  printTable(
    `Tracking modes: 2 clients each read ${KEYS / 1000}k keys; then another client writes 10k of them, then 10k keys nobody read (Redis ${/^redis_version:(\S+)/m.exec(await admin.info('server'))[1]})`,
    ['mode', 'Redis memory for the reads', 'tracking_total_items', 'Redis CPU, 200k reads', 'Redis CPU, 10k writes', 'keys invalidated / instance (held)', '(not held)'],
    rows,
  );
  return figures;
}

/** Part 2: invalidation latency, tracking (external write) vs bus (library write), interleaved. */
async function latencies(Redis, port, a, b) {
  const outsider = new Redis(port, '127.0.0.1');
  const trackA = a.namespace('trk');
  const trackB = b.namespace('trk');
  const busA = a.namespace('bus');
  const busB = b.namespace('bus');
  const waiting = new Map();
  for (const ns of [trackB, busB]) {
    const l1 = ns.store.l1;
    const original = l1.invalidated.bind(l1);
    l1.invalidated = (keys) => {
      const at = performance.now();
      for (const key of keys ?? []) waiting.get(key)?.(at);
      original(keys);
    };
  }
  const dropped = (key) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no invalidation of ${key} within 2 s`)), 2_000);
    waiting.set(key, (at) => {
      clearTimeout(timer);
      waiting.delete(key);
      resolve(at);
    });
  });
  const held = async (ns, key) => {
    for (let i = 0; i < 100; i++) {
      await ns.get(key);
      if (ns.store.l1.entry(key) !== undefined && (await ns.get(key)) !== undefined && ns.store.l1.entry(key) !== undefined) return;
      await sleep(2);
    }
    throw new Error(`${key} never reached L1`);
  };
  const results = { tracking: { fromWrite: [], fromAck: [] }, bus: { fromWrite: [], fromAck: [] } };
  for (let i = 0; i < WARMUP_TRIALS + TRIALS; i++) {
    const record = i >= WARMUP_TRIALS;
    // tracking: another client of Redis writes a key B holds
    {
      const key = `t${i}`;
      await trackA.set(key, { i });
      await sleep(5); // its own announcement (to B) delivered first
      await held(trackB, key);
      const done = dropped(key);
      const t0 = performance.now();
      await outsider.set(`cache:{trk}:${key}`, JSON.stringify({ i: -i }));
      const ack = performance.now();
      const at = await done;
      if (record) {
        results.tracking.fromWrite.push(at - t0);
        results.tracking.fromAck.push(at - ack);
      }
    }
    // bus: instance A writes a key B holds
    {
      const key = `b${i}`;
      await busA.set(key, { i });
      await sleep(5); // its own announcement (to B) delivered first
      await held(busB, key);
      const done = dropped(key);
      const t0 = performance.now();
      await busA.set(key, { i: -i });
      const ack = performance.now();
      const at = await done;
      if (record) {
        results.bus.fromWrite.push(at - t0);
        results.bus.fromAck.push(at - ack);
      }
    }
  }
  outsider.disconnect();
  const fig = (xs) => ({ p50: percentile(xs, 0.5), p99: percentile(xs, 0.99), max: Math.max(...xs) });
  const out = {
    tracking: { fromWrite: fig(results.tracking.fromWrite), fromAck: fig(results.tracking.fromAck) },
    bus: { fromWrite: fig(results.bus.fromWrite), fromAck: fig(results.bus.fromAck) },
  };
  const row = (name, f) => [name, f.p50.toFixed(3), f.p99.toFixed(3), f.max.toFixed(3)];
  printTable(`Invalidation latency, ms (${TRIALS} trials each, interleaved, after ${WARMUP_TRIALS} warm-up)`, ['what', 'p50', 'p99', 'max'], [
    row('tracking: external SET sent -> L1 copy dropped', out.tracking.fromWrite),
    row('tracking: external SET acknowledged -> dropped', out.tracking.fromAck),
    row('bus: library set() called -> other L1 dropped', out.bus.fromWrite),
    row('bus: library set() resolved -> other L1 dropped', out.bus.fromAck),
  ]);
  return out;
}

/** Part 3: write throughput of keys under a tracked prefix vs an untracked one, and library sets by coherence. */
async function writeThroughput(Redis, port, admin, a) {
  const writer = new Redis(port, '127.0.0.1');
  const value = 'x'.repeat(1024);
  const keysOf = (prefix) => Array.from({ length: 1000 }, (_, i) => `${prefix}${i}`);
  const tasks = [
    { name: 'SET, tracked prefix (2 instances notified)', keys: keysOf('cache:{trk}:w'), set: (k) => writer.set(k, value) },
    { name: 'SET, untracked prefix', keys: keysOf('cache:{untracked}:w'), set: (k) => writer.set(k, value) },
    { name: 'library set(), coherence tracking', keys: keysOf('lw'), set: (k) => a.namespace('trk').set(k, value) },
    { name: 'library set(), coherence bus', keys: keysOf('lw'), set: (k) => a.namespace('bus').set(k, value) },
  ];
  const loop = async (task, seconds) => {
    let ops = 0;
    const end = performance.now() + seconds * 1000;
    await Promise.all(Array.from({ length: CONCURRENCY }, async (_, w) => {
      let i = w * 13;
      while (performance.now() < end) {
        await task.set(task.keys[i++ % task.keys.length]);
        ops++;
      }
    }));
    return ops / seconds;
  };
  const ops = tasks.map(() => []);
  const cpu = tasks.map(() => []);
  for (const t of tasks) await loop(t, 0.3);
  for (let r = 0; r < ROUNDS; r++) {
    for (let j = 0; j < tasks.length; j++) {
      const i = (j + r) % tasks.length;
      gc();
      await sleep(100); // invalidations of the previous round delivered
      const before = await redisCpu(admin);
      const rate = await loop(tasks[i], ROUND_SECONDS);
      const used = (await redisCpu(admin)) - before;
      ops[i].push(rate);
      cpu[i].push((used * 1000) / (rate * ROUND_SECONDS / 1000));
    }
  }
  writer.disconnect();
  const rows = tasks.map((t, i) => [t.name, formatOps(median(ops[i])), `${median(cpu[i]).toFixed(1)} ms`]);
  printTable(`Writes, c=${CONCURRENCY}, 1 KB values, ${ROUNDS} interleaved rounds of ${ROUND_SECONDS} s (medians)`, ['task', 'ops/s', 'Redis CPU per 1000 writes'], rows);
  const ratio = (x, y) => median(ops[x].map((v, k) => v / ops[y][k]));
  return {
    trackedVsUntrackedWrites: ratio(0, 1), trackingVsBusLibrarySets: ratio(2, 3),
    opsPerSec: Object.fromEntries(tasks.map((t, i) => [t.name, median(ops[i])])),
    redisCpuMsPer1000: Object.fromEntries(tasks.map((t, i) => [t.name, median(cpu[i])])),
  };
}

/** The L1 hit path: a tracking namespace's hit vs a bus namespace's (the same code, another trust object). */
async function l1Hits(admin, a) {
  const keys = Array.from({ length: 1000 }, (_, i) => `h${i}`);
  const value = { payload: 'x'.repeat(1000) };
  for (const name of ['trk', 'bus']) for (const k of keys) await a.namespace(name).set(k, value);
  const commands = async () => Number(/total_commands_processed:(\d+)/.exec(await admin.info('stats'))[1]);
  const tasks = [
    { name: 'two-tier get, L1 hit, coherence tracking', run: asyncLoop((k) => a.namespace('trk').get(k), keys) },
    { name: 'two-tier get, L1 hit, coherence bus', run: asyncLoop((k) => a.namespace('bus').get(k), keys) },
  ];
  const before = await commands();
  const results = await measure(tasks, { rounds: 7, batchSeconds: 0.2, maxSeconds: 30 });
  const during = (await commands()) - before - 1;
  printTable('L1 hits (1000 keys, 1 KB object)', ['task', 'ops/s (median)', 'ns/op', 'spread', 'vs bus'],
    tasks.map((t, i) => [t.name, formatOps(median(results[i])), (1e9 / median(results[i])).toFixed(0), formatSpread(spread(results[i])), `${ratioOfRounds(results[i], results[1]).toFixed(2)}×`]));
  console.log(`Redis commands during the L1-hit runs (heartbeats included): ${during}`);
  return { opsPerSec: tasks.map((t, i) => [t.name, median(results[i])]), ratio: ratioOfRounds(results[0], results[1]) };
}

/** Redis memory and CPU of the library's tracking with 100k keys held in two instances' L1s. */
async function libraryFootprint(admin, a, b) {
  const ns = [a.namespace('big'), b.namespace('big')];
  const memoryBefore = await info(admin, 'memory', 'used_memory');
  for (let i = 0; i < KEYS; i += 500) {
    await Promise.all(Array.from({ length: 500 }, (_, j) => ns[0].set(`k${i + j}`, i + j)));
  }
  const cpuBefore = await redisCpu(admin);
  for (let i = 0; i < KEYS; i += 500) await Promise.all(Array.from({ length: 500 }, (_, j) => ns[1].get(`k${i + j}`)));
  const readCpu = (await redisCpu(admin)) - cpuBefore;
  const held = ns.map((n) => n.stats().entries);
  const prefixes = await info(admin, 'stats', 'tracking_total_prefixes');
  const items = await info(admin, 'stats', 'tracking_total_items');
  const memory = (await info(admin, 'memory', 'used_memory')) - memoryBefore;
  printTable('Library, coherence tracking: 100k keys written by instance A (held in its L1), read into instance B\'s L1', ['L1 entries A / B', 'tracking_total_prefixes', 'tracking_total_items', 'Redis memory growth (entries included)', 'Redis CPU, 100k reads'], [
    [`${held[0]} / ${held[1]}`, String(prefixes), String(items), `${(memory / 1024 / 1024).toFixed(1)} MB`, `${(readCpu * 1000).toFixed(0)} ms`],
  ]);
  return { entries: held, trackingPrefixes: prefixes, trackingItems: items, memoryGrowthBytes: memory, readCpuMs: readCpu * 1000 };
}

async function main() {
  const server = await startRedisServer();
  const Redis = require('ioredis');
  const admin = new Redis(server.port, '127.0.0.1');
  const lib = require('../libs/cache');
  const { NestFactory } = require('@nestjs/core');
  try {
    const modes = await compareModes(Redis, server.port, admin);
    await admin.flushall();
    const secret = randomBytes(32).toString('base64');
    const app = () => NestFactory.createApplicationContext(lib.CacheModule.forRoot({
      redis: { url: server.url },
      bus: { secret },
      namespaces: {
        trk: { backend: 'redis', ttl: '1h', l1: { coherence: 'tracking', maxEntries: 50_000 } },
        bus: { backend: 'redis', ttl: '1h', l1: { coherence: 'bus', maxEntries: 50_000 } },
        big: { backend: 'redis', ttl: '1h', l1: { coherence: 'tracking', maxEntries: KEYS + 1000 } },
      },
    }), { logger: false, abortOnError: false });
    const [appA, appB] = [await app(), await app()];
    const [a, b] = [appA.get(lib.CacheService), appB.get(lib.CacheService)];
    for (let i = 0; i < 500; i++) {
      if (a.namespace('trk').stats().tracking?.connected && b.namespace('trk').stats().tracking?.connected && a.namespace('bus').stats().bus?.connected && b.namespace('bus').stats().bus?.connected) break;
      await sleep(10);
    }
    const latency = await latencies(Redis, server.port, a, b);
    const hits = await l1Hits(admin, a);
    const writes = await writeThroughput(Redis, server.port, admin, a);
    const footprint = await libraryFootprint(admin, a, b);
    await appA.close();
    await appB.close();
    const ratios = {
      trackingVsBusLatencyP50: latency.bus.fromWrite.p50 / latency.tracking.fromWrite.p50,
      trackedVsUntrackedWrites: writes.trackedVsUntrackedWrites,
      trackingVsBusLibrarySets: writes.trackingVsBusLibrarySets,
      l1HitTrackingVsBus: hits.ratio,
    };
    console.log('\nratios:', JSON.stringify(ratios));
    writeResults('tracking', { modes, latency, hits, writes, footprint }, ratios);
  } finally {
    admin.disconnect();
    await server.stop();
  }
}

runBench(main);
