// Types of redis-server.js, the one redis-server launcher of the tests and the benches.
import type Redis from 'ioredis';

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

/** Throws, saying how to install it, when `redis-server` is not on the PATH. */
export function assertRedisServerInstalled(env?: NodeJS.ProcessEnv): void;

export function freePort(): Promise<number>;

/** One `redis-server` on a free loopback port (retried on another port if it was taken meanwhile). */
export function startRedisServer(options?: RedisServerOptions): Promise<RedisServer>;

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
export function useRedisServer(options?: UseRedisServerOptions): RedisServerHandle;

/** Up means an answer to PING: `+PONG`, or `-NOAUTH` from a server with a password. */
export function answersPing(port: number): Promise<boolean>;

/** One short-lived connection to a node, for a harness's own checks (no retries, 1 s timeout). */
export function askNode<T>(port: number, ask: (redis: Redis) => Promise<T>): Promise<T>;

/** Polls `check` every `everyMs` until it resolves true; rejects with "`what` within `timeoutMs` ms". */
export function waitUntil(timeoutMs: number, what: string, check: () => Promise<boolean>, everyMs?: number): Promise<void>;

/** `redis-cli <args>`; resolves its output, rejects with it when it fails, or after 20 s. */
export function runRedisCli(args: string[]): Promise<string>;

export function sleep(ms: number): Promise<void>;
