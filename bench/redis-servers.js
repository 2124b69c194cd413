// Private redis-server processes for the Redis benches (a standalone server, or a 3+3 Cluster), on
// free loopback ports, in fresh temporary directories; and the closed-loop load they are measured with.
// (The tests have their own TypeScript launchers in test/support; benches are plain node scripts.)
'use strict';
const { spawn } = require('node:child_process');
const { mkdtempSync, mkdirSync, rmSync } = require('node:fs');
const { createServer, createConnection } = require('node:net');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function pings(port) {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const done = (up) => {
      socket.destroy();
      resolve(up);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** One redis-server on a free port (extra `args` appended); `stop()` ends it and removes its directory. */
async function startRedis(args = [], dir = mkdtempSync(join(tmpdir(), 'nest-cachekit-bench-redis-'))) {
  mkdirSync(dir, { recursive: true });
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...args], { stdio: 'ignore' });
    children.add(child);
    let exited = false;
    child.once('exit', () => {
      exited = true;
      children.delete(child);
    });
    for (let i = 0; i < 500 && !exited && !(await pings(port)); i++) await sleep(10);
    if (exited) {
      if (attempt < 5) continue; // the port was taken between freePort() and bind()
      throw new Error('redis-server did not start');
    }
    return {
      port,
      url: `redis://127.0.0.1:${port}`,
      async stop() {
        if (!exited) {
          const gone = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          await gone;
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}

function redisCli(args) {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-cli', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.once('exit', (code) => (code === 0 ? resolve(output) : reject(new Error(`redis-cli ${args.slice(0, 2).join(' ')} failed: ${output.slice(-300)}`))));
  });
}

/**
 * A Cluster of 3 masters and 3 replicas (explicit free bus ports, `redis-cli --cluster create`),
 * ready when every node reports cluster_state:ok. `seeds` are the 3 first nodes.
 */
async function startCluster() {
  const root = mkdtempSync(join(tmpdir(), 'nest-cachekit-bench-cluster-'));
  const nodes = [];
  for (let i = 0; i < 6; i++) {
    const busPort = await freePort();
    const dir = join(root, `node-${i}`);
    nodes.push(await startRedis(['--cluster-enabled', 'yes', '--cluster-port', String(busPort), '--cluster-config-file', join(dir, 'nodes.conf'),
      '--cluster-node-timeout', '5000', '--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '0'], dir));
  }
  await redisCli(['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '1', '--cluster-yes']);
  const deadline = Date.now() + 20_000;
  for (;;) {
    const states = await Promise.all(nodes.map((n) => redisCli(['-p', String(n.port), 'CLUSTER', 'INFO']).catch(() => '')));
    if (states.every((s) => /cluster_state:ok/.test(s) && /cluster_known_nodes:6\b/.test(s))) break;
    if (Date.now() > deadline) throw new Error('the cluster did not become ready in 20 s');
    await sleep(50);
  }
  return {
    nodes,
    seeds: nodes.slice(0, 3).map((n) => ({ host: '127.0.0.1', port: n.port })),
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()));
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * `concurrency` workers, each awaiting one `get` at a time, for `seconds` (closed loop); returns
 * ops/s. Every read must hit; latencies (ms) are pushed to `latencies`.
 */
async function closedLoop(get, keys, concurrency, seconds, latencies) {
  let ops = 0;
  const end = performance.now() + seconds * 1000;
  const worker = async (w) => {
    let i = w * 97;
    while (performance.now() < end) {
      const t0 = performance.now();
      const v = await get(keys[i++ % keys.length]);
      latencies.push(performance.now() - t0);
      if (v === undefined || v === null) throw new Error('expected a hit');
      ops++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  return ops / ((performance.now() - t0) / 1000);
}

/**
 * Interleaved closed-loop rounds: a warm-up per client, then `rounds` rounds in which every client
 * runs once, starting from a different client each round, with a GC before each. Returns ops/s per
 * client per round, and a bounded sample of latencies per client.
 */
async function interleavedRounds(clients, keys, { concurrency, rounds, seconds, warmupSeconds = 0.5, gc = () => undefined }) {
  const results = clients.map(() => []);
  const lat = clients.map(() => []);
  for (const c of clients) await closedLoop(c.get, keys, concurrency, warmupSeconds, []);
  for (let r = 0; r < rounds; r++) {
    for (let j = 0; j < clients.length; j++) {
      const i = (j + r) % clients.length;
      gc();
      const sample = [];
      results[i].push(await closedLoop(clients[i].get, keys, concurrency, seconds, sample));
      for (let k = 0; k < sample.length; k += Math.ceil(sample.length / 5000)) lat[i].push(sample[k]);
    }
  }
  return { results, lat };
}

function percentile(xs, p) {
  if (xs.length === 0) return NaN;
  const s = Float64Array.from(xs).sort();
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
}

/** A JSON object of about 1 KB. */
function value1k(i) {
  const v = { id: i, title: `Track ${i}`, artists: ['a', 'b'], tags: [], payload: '' };
  v.payload = 'x'.repeat(1024 - JSON.stringify(v).length);
  return v;
}

module.exports = { startRedis, startCluster, closedLoop, interleavedRounds, percentile, value1k, sleep };
