// Starts real `redis-server` processes on free loopback ports, and stops them: the one launcher of
// the tests (TypeScript, through redis-server.d.ts) and of the benches (plain node). Nothing touches
// the machine's own Redis on 6379. In a spec, `useRedisServer()` is the usual way in: one server per
// describe, with an admin client. Topologies built on it: redis-sentinel.ts, redis-cluster.js.
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const { createConnection, createServer } = require('node:net');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const Redis = require('ioredis');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Where each started server's PID is recorded, so that a test run's global teardown can reap orphans
 * (global setup gives every run a folder of its own). Outside a test run (benches) nothing is
 * recorded: the exit handler below ends the servers.
 */
const PID_DIR = process.env.NEST_CACHEKIT_REDIS_PID_DIR;
const live = new Set();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

function assertRedisServerInstalled(env = process.env) {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8', env });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      'redis-server is not on PATH; the Redis tests and benches start their own servers with it. ' +
        'Install it with `sudo apt-get install -y redis-server` (Debian/Ubuntu) or `brew install redis` (macOS).',
    );
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function startRedisServer(options = {}) {
  assertRedisServerInstalled();
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    try {
      return await launch(port, options);
    } catch (error) {
      // Another process may take the port between freePort() and bind(); pick another.
      if (options.port !== undefined || attempt >= 5 || !/Address already in use/.test(String(error))) throw error;
    }
  }
}

async function launch(port, options) {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'nest-cachekit-redis-'));
  mkdirSync(dir, { recursive: true });
  const logFile = join(dir, 'redis.log');
  const common = ['--port', String(port), '--bind', '127.0.0.1', '--daemonize', 'no', '--dir', dir, '--logfile', logFile];
  const argv = options.sentinelConfig !== undefined
    ? [options.sentinelConfig, '--sentinel', ...common, ...(options.args ?? [])]
    : [...common, '--save', '', '--appendonly', 'no', ...(options.args ?? [])];
  const child = spawn('redis-server', argv, { stdio: 'ignore' });
  live.add(child);
  let pidFile;
  if (PID_DIR !== undefined) {
    mkdirSync(PID_DIR, { recursive: true });
    pidFile = join(PID_DIR, String(child.pid));
    writeFileSync(pidFile, String(port));
  }
  let exited = false;
  child.once('exit', () => {
    exited = true;
    live.delete(child);
    if (pidFile !== undefined) rmSync(pidFile, { force: true });
  });

  const deadline = Date.now() + 5_000;
  while (!(await answersPing(port))) {
    if (exited || Date.now() > deadline) {
      const log = safeRead(logFile);
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`redis-server on port ${port} did not start: ${log.slice(-500)}`);
    }
    await sleep(10);
  }

  const kill = async (signal) => {
    if (exited) return;
    const gone = new Promise((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await gone;
  };
  return {
    host: '127.0.0.1',
    port,
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid,
    kill,
    async stop() {
      if (!exited) {
        const gone = new Promise((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
        await gone;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Registers the hooks of a describe that needs a Redis of its own (the runner's `beforeAll`,
 * `afterAll`, `beforeEach` globals): see redis-server.d.ts.
 */
function useRedisServer(options = {}) {
  const { flushBeforeEach = false, password, beforeStop, ...serverOptions } = options;
  let server;
  let admin;
  beforeAll(async () => {
    const args = password === undefined ? serverOptions.args : ['--requirepass', password, ...(serverOptions.args ?? [])];
    server = await startRedisServer({ ...serverOptions, args });
    admin = new Redis({ host: '127.0.0.1', port: server.port, password });
  });
  afterAll(async () => {
    try {
      await beforeStop?.();
    } finally {
      admin?.disconnect();
      await server?.stop();
    }
  });
  if (flushBeforeEach) {
    beforeEach(async () => {
      await started(admin, 'admin').flushall();
    });
  }
  return {
    get server() {
      return started(server, 'server');
    },
    get admin() {
      return started(admin, 'admin');
    },
  };
}

function started(value, name) {
  if (value === undefined) {
    throw new Error(`useRedisServer(): \`${name}\` is set in beforeAll; read it in a hook or a test, not in the describe body`);
  }
  return value;
}

/** Up means an answer to PING: `+PONG`, or `-NOAUTH` from a server with a password. */
function answersPing(port) {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const done = (up) => {
      socket.destroy();
      resolve(up);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(/^(\+PONG|-NOAUTH)/.test(data.toString())));
  });
}

/** One short-lived connection to a node, for a harness's own checks (no retries, 1 s timeout). */
async function askNode(port, ask) {
  const redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1_000, commandTimeout: 1_000, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return await ask(redis);
  } finally {
    redis.disconnect();
  }
}

async function waitUntil(timeoutMs, what, check, everyMs = 50) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

/** `redis-cli <args>`; rejects with its output when it fails, or after 20 s. */
function runRedisCli(args) {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-cli', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`redis-cli ${args.slice(0, 2).join(' ')} failed (${code}): ${output.slice(-500)}`));
    });
  });
}

function safeRead(file) {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '(no log)';
  }
}

module.exports = {
  assertRedisServerInstalled, freePort, startRedisServer, useRedisServer, answersPing, askNode, waitUntil, runRedisCli, sleep,
};
