/**
 * Starts real `redis-server` processes on free loopback ports for tests, and stops them.
 * Every suite that needs Redis uses this; nothing touches the machine's own Redis on 6379.
 * `useRedisServer()` is the usual way in a spec: one server per describe, with an admin client.
 */
import Redis from 'ioredis';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisServerOptions {
  /** A fixed port (to restart a server where clients expect it); a free one by default. */
  port?: number;
  /** Extra `redis-server` arguments, e.g. `['--requirepass', 'pw']`. */
  args?: string[];
  /** Start a sentinel from this config file (`redis-server <file> --sentinel`); it must be writable. */
  sentinelConfig?: string;
  /** Working directory (made by the caller, removed by `stop()`); a fresh temporary one by default. */
  dir?: string;
}

export interface RedisServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly url: string;
  readonly pid: number;
  /** SIGTERM, then SIGKILL after 3 s; removes the working directory. */
  stop(): Promise<void>;
  /** Sends `signal` (e.g. `SIGKILL` to simulate a crash) and resolves when the process has exited. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

/**
 * Where each started server's PID is recorded, so that global teardown can reap orphans. One folder
 * per test run (made by global setup), so that two runs on one machine never reap each other's.
 */
const PID_DIR = process.env.NEST_CACHEKIT_REDIS_PID_DIR ?? join(tmpdir(), `nest-cachekit-redis-pids-${process.pid}`);
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export function assertRedisServerInstalled(env: NodeJS.ProcessEnv = process.env): void {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8', env });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      'redis-server is not on PATH; the Redis tests start their own servers with it. ' +
        'Install it with `sudo apt-get install -y redis-server` (Debian/Ubuntu) or `brew install redis` (macOS).',
    );
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
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

async function launch(port: number, options: RedisServerOptions): Promise<RedisServer> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'nest-cachekit-redis-'));
  mkdirSync(dir, { recursive: true });
  const logFile = join(dir, 'redis.log');
  const common = ['--port', String(port), '--bind', '127.0.0.1', '--daemonize', 'no', '--dir', dir, '--logfile', logFile];
  const argv = options.sentinelConfig !== undefined
    ? [options.sentinelConfig, '--sentinel', ...common, ...(options.args ?? [])]
    : [...common, '--save', '', '--appendonly', 'no', ...(options.args ?? [])];
  const child = spawn('redis-server', argv, { stdio: 'ignore' });
  live.add(child);
  mkdirSync(PID_DIR, { recursive: true });
  const pidFile = join(PID_DIR, String(child.pid));
  writeFileSync(pidFile, String(port));
  let exited = false;
  child.once('exit', () => {
    exited = true;
    live.delete(child);
    rmSync(pidFile, { force: true });
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

  const kill = async (signal: NodeJS.Signals): Promise<void> => {
    if (exited) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await gone;
  };
  return {
    host: '127.0.0.1',
    port,
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid!,
    kill,
    async stop() {
      if (!exited) {
        const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
        await gone;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface UseRedisServerOptions extends RedisServerOptions {
  /** `FLUSHALL` in a `beforeEach`, registered before the spec's own, so every test starts on an empty Redis. */
  flushBeforeEach?: boolean;
  /** Start the server with `--requirepass <password>`; `admin` logs in with it. */
  password?: string;
  /**
   * Runs in the `afterAll` just before `admin` disconnects and the server stops, for what a spec opened
   * in its own `beforeAll` (an app): Jest runs one block's `afterAll` hooks in the order they were
   * declared, so a spec's own `afterAll` would run after the server is gone.
   */
  beforeStop?: () => unknown;
}

export interface RedisServerHandle {
  /** The server; started in `beforeAll`, so read it in hooks and tests, not in the describe body. */
  readonly server: RedisServer;
  /** A client of the server's own, for looking behind the library (`KEYS`, `PTTL`, planting entries). */
  readonly admin: Redis;
}

/**
 * Registers the hooks of a describe that needs a Redis of its own: start a server and an admin client
 * in `beforeAll`, optionally `FLUSHALL` before each test, and in `afterAll` run `beforeStop`, disconnect
 * the admin and stop the server. Call it first in the describe, before hooks that use the server.
 * Apps a spec starts per test are closed in its `afterEach`, which Jest runs before any `afterAll`.
 */
export function useRedisServer(options: UseRedisServerOptions = {}): RedisServerHandle {
  const { flushBeforeEach = false, password, beforeStop, ...serverOptions } = options;
  let server: RedisServer | undefined;
  let admin: Redis | undefined;
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

function started<T>(value: T | undefined, name: string): T {
  if (value === undefined) {
    throw new Error(`useRedisServer(): \`${name}\` is set in beforeAll; read it in a hook or a test, not in the describe body`);
  }
  return value;
}

/** Up means an answer to PING: `+PONG`, or `-NOAUTH` from a server with a password. */
export function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const done = (up: boolean): void => {
      socket.destroy();
      resolve(up);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(/^(\+PONG|-NOAUTH)/.test(data.toString())));
  });
}

function safeRead(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '(no log)';
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
