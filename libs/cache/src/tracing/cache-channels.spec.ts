/**
 * What the cache publishes on node:diagnostics_channel, seen by subscribing to the channels directly
 * (as an app's own tool would), with neither the Prometheus nor the OpenTelemetry part installed.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import diagnosticsChannel from 'node:diagnostics_channel';
import { inspect } from 'node:util';
import { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { BackendContext, CacheBackend, CacheBackendFactory } from '../backends/cache-backend.interface';
import { CacheModule } from '../cache.module';
import { CacheService } from '../cache.service';
import { BackendUnavailableError } from '../errors/backend-unavailable.error';
import { CacheModuleOptions } from '../options/cache-module-options.interface';
import { CacheOperationContext } from './cache-channels';
import { markCacheTier } from './mark-cache-tier';

const SECRET_KEY = 'user:42:email';
const SECRET_VALUE = 'alice@example.com';

/** An asynchronous backend that says which tier answered, and can fail. */
class TierMarkingFactory implements CacheBackendFactory {
  failing = false;
  readonly store = new Map<string, unknown>();
  create(_context: BackendContext): CacheBackend {
    const guard = () => {
      if (this.failing) throw new Error(`connection reset while reading ${SECRET_KEY}`);
    };
    return {
      name: 'marking',
      storesLiveValues: false,
      get: async (key) => {
        guard();
        await new Promise((resolve) => setImmediate(resolve));
        if (this.store.has(key)) markCacheTier('l2');
        return this.store.get(key);
      },
      set: async (key, value) => { guard(); this.store.set(key, value); },
      delete: async (key) => this.store.delete(key),
      has: async (key) => this.store.has(key),
      mget: async (keys) => keys.map((k) => this.store.get(k)),
      mset: async (entries) => { for (const e of entries) this.store.set(e.key, e.value); },
      clear: async () => { const n = this.store.size; this.store.clear(); return n; },
    };
  }
}

async function start(options: CacheModuleOptions): Promise<INestApplicationContext> {
  const moduleRef = await Test.createTestingModule({ imports: [CacheModule.forRoot(options)] }).compile();
  return moduleRef.createNestApplication({ logger: false }).init();
}

type Event = [event: string, message: CacheOperationContext];

/** Subscribes to the tracing channels of these operations; every event in order. */
function recordTracing(operations: string[]): { events: Event[]; off(): void } {
  const events: Event[] = [];
  const handlers = operations.map((operation) => {
    const channels = diagnosticsChannel.tracingChannel(`nest-cachekit:${operation}`);
    const subscribers = Object.fromEntries(['start', 'end', 'asyncStart', 'asyncEnd', 'error'].map((event) => [
      event, (message: unknown) => events.push([event, message as CacheOperationContext]),
    ])) as never;
    channels.subscribe(subscribers);
    return () => channels.unsubscribe(subscribers);
  });
  return { events, off: () => handlers.forEach((off) => off()) };
}

function recordLatency(): { messages: CacheOperationContext[]; off(): void } {
  const messages: CacheOperationContext[] = [];
  const listener = (message: unknown) => messages.push(message as CacheOperationContext);
  diagnosticsChannel.subscribe('nest-cachekit:latency', listener);
  return { messages, off: () => diagnosticsChannel.unsubscribe('nest-cachekit:latency', listener) };
}

describe('tracing channels: nest-cachekit:<operation>', () => {
  let app: INestApplicationContext;
  const factory = new TierMarkingFactory();

  beforeAll(async () => {
    app = await start({ backends: { marking: factory }, namespaces: { users: {}, remote: { backend: 'marking' } } });
  });
  afterAll(() => app.close());

  it('publishes every call: start, end, asyncStart, asyncEnd, with namespace, backend, operation and outcome; never a key or value', async () => {
    const recorder = recordTracing(['get', 'set']);
    const users = app.get(CacheService).namespace('users');
    try {
      await users.get(SECRET_KEY);
      await users.set(SECRET_KEY, { email: SECRET_VALUE });
      for (let i = 0; i < 10; i++) await users.get(SECRET_KEY);
    } finally {
      recorder.off();
    }
    const { events } = recorder;
    expect(events.map(([event, m]) => `${m.operation}:${event}`).slice(0, 8)).toEqual([
      'get:start', 'get:end', 'get:asyncStart', 'get:asyncEnd', 'set:start', 'set:end', 'set:asyncStart', 'set:asyncEnd',
    ]);
    const ends = events.filter(([event]) => event === 'asyncEnd').map(([, m]) => m);
    expect(ends.map((m) => `${m.operation}:${m.outcome}`)).toEqual(['get:miss', 'set:ok', ...Array(10).fill('get:hit')]);
    expect(ends[0]).toMatchObject({ namespace: 'users', backend: 'memory', operation: 'get', tier: undefined, error: undefined });
    expect(typeof ends[0].seconds).toBe('number');
    // One message object per call, from start to asyncEnd.
    expect(new Set(events.map(([, m]) => m)).size).toBe(12);
    // The namespace is reachable for identity checks, but printing a message shows no cache internals.
    expect(ends[0].cache).toBe(users);
    for (const [, message] of events) {
      for (const text of [JSON.stringify(message), inspect(message, { depth: 5 })]) {
        expect(text).not.toContain(SECRET_KEY);
        expect(text).not.toContain(SECRET_VALUE);
        expect(text).not.toContain('cache:');
      }
    }
  });

  it('publishes a failure: error before asyncStart, with the error (a CacheError) and outcome error', async () => {
    const recorder = recordTracing(['get']);
    factory.failing = true;
    try {
      await expect(app.get(CacheService).namespace('remote').get(SECRET_KEY)).rejects.toThrow(BackendUnavailableError);
    } finally {
      factory.failing = false;
      recorder.off();
    }
    expect(recorder.events.map(([event]) => event)).toEqual(['start', 'end', 'error', 'asyncStart', 'asyncEnd']);
    const [, message] = recorder.events[4];
    expect(message).toMatchObject({ namespace: 'remote', backend: 'marking', operation: 'get', outcome: 'error' });
    expect(message.error).toBeInstanceOf(BackendUnavailableError);
  });

  it('getOrSet: the loader call is a load operation under it (parent), inside its start and asyncEnd', async () => {
    const recorder = recordTracing(['getOrSet', 'load']);
    try {
      await app.get(CacheService).namespace('users').getOrSet('fresh', async () => 'v');
      await app.get(CacheService).namespace('users').getOrSet('fresh', async () => 'never');
    } finally {
      recorder.off();
    }
    // getOrSet awaits the lookup before it calls the loader: its synchronous part has ended by then.
    expect(recorder.events.map(([event, m]) => `${m.operation}:${event}`)).toEqual([
      'getOrSet:start', 'getOrSet:end', 'load:start', 'load:end', 'load:asyncStart', 'load:asyncEnd', 'getOrSet:asyncStart', 'getOrSet:asyncEnd',
      'getOrSet:start', 'getOrSet:end', 'getOrSet:asyncStart', 'getOrSet:asyncEnd',
    ]);
    const [[, outer], , [, load]] = recorder.events;
    expect(load.parent).toBe(outer);
    expect(outer.outcome).toBe('miss');
    expect(recorder.events.at(-1)![1].outcome).toBe('hit');
  });

  it('a subscriber of load alone sees the loads', async () => {
    const recorder = recordTracing(['load']);
    try {
      await app.get(CacheService).namespace('users').getOrSet('load-only', () => 'v');
    } finally {
      recorder.off();
    }
    expect(recorder.events.map(([event]) => event)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
    expect(recorder.events[0][1]).toMatchObject({ operation: 'load', namespace: 'users', outcome: 'ok' });
  });

  it('fills in the tier a backend marks after an await (markCacheTier)', async () => {
    const remote = app.get(CacheService).namespace('remote');
    await remote.set('t', 1);
    const recorder = recordTracing(['get']);
    try {
      await remote.get('t');
      await remote.get('absent');
    } finally {
      recorder.off();
    }
    const ends = recorder.events.filter(([event]) => event === 'asyncEnd').map(([, m]) => [m.outcome, m.tier]);
    expect(ends).toEqual([['hit', 'l2'], ['miss', undefined]]);
  });

  it('runs the call inside the stores bound to the start channel (how a tracer makes its span the active one)', async () => {
    const store = new AsyncLocalStorage<string>();
    const start = diagnosticsChannel.tracingChannel('nest-cachekit:getOrSet').start;
    start.bindStore(store, (message) => `inside ${(message as CacheOperationContext).operation}`);
    let seen: string | undefined;
    try {
      await app.get(CacheService).namespace('users').getOrSet('stored', async () => {
        await new Promise((resolve) => setImmediate(resolve));
        seen = store.getStore();
        return 1;
      });
    } finally {
      start.unbindStore(store);
    }
    expect(seen).toBe('inside getOrSet');
  });

  it('publishes nothing with observability.tracing false', async () => {
    const off = await start({ observability: { tracing: false } });
    const recorder = recordTracing(['get', 'set']);
    try {
      await off.get(CacheService).set('k', 1);
      await off.get(CacheService).get('k');
    } finally {
      recorder.off();
      await off.close();
    }
    expect(recorder.events).toEqual([]);
  });
});

describe('latency channel: nest-cachekit:latency', () => {
  it('memory: 1 call in latencySampleEvery, each message with its operation and duration', async () => {
    const app = await start({ namespaces: { users: {} }, observability: { latencySampleEvery: 4 } });
    const latency = recordLatency();
    const users = app.get(CacheService).namespace('users');
    try {
      await users.set('k', 1);
      for (let i = 0; i < 40; i++) await users.get('k');
    } finally {
      latency.off();
      await app.close();
    }
    // The first call decides (and is timed); then every 4th: calls 1, 5, 9 … 41.
    expect(latency.messages).toHaveLength(11);
    expect(latency.messages[0]).toMatchObject({ namespace: 'users', backend: 'memory', operation: 'set' });
    expect(latency.messages.slice(1).every((m) => m.operation === 'get' && typeof m.seconds === 'number' && m.cache === users)).toBe(true);
  });

  it('remote backends: every call, each operation at most once per 0.1 ms', async () => {
    const app = await start({ backends: { marking: new TierMarkingFactory() }, namespaces: { remote: { backend: 'marking' } } });
    const latency = recordLatency();
    const clock = { now: 1_000 };
    const spy = jest.spyOn(performance, 'now').mockImplementation(() => clock.now);
    const remote = app.get(CacheService).namespace('remote');
    try {
      for (let i = 0; i < 20; i++) await remote.get('k'); // one instant: 1 timed
      for (let i = 0; i < 20; i++) {
        clock.now += 0.2;
        await remote.get('k'); // spaced: every one timed
      }
    } finally {
      spy.mockRestore();
      latency.off();
      await app.close();
    }
    expect(latency.messages.map((m) => m.operation)).toEqual(Array(21).fill('get'));
    expect(latency.messages.every((m) => m.backend === 'marking' && m.outcome === 'miss')).toBe(true);
  });

  it('memory, with only the latency channel listened to: 1 in latencySampleEvery, and no tracing event', async () => {
    const app = await start({ namespaces: { users: {} }, observability: { latencySampleEvery: 10 } });
    const latency = recordLatency();
    const seen: unknown[] = [];
    const all = (message: unknown) => seen.push(message);
    for (const event of ['start', 'end', 'asyncStart', 'asyncEnd', 'error']) diagnosticsChannel.subscribe(`tracing:nest-cachekit:set:${event}`, all);
    const users = app.get(CacheService).namespace('users');
    try {
      await users.set('k', 1);
      for (let i = 0; i < 100; i++) await users.get('k');
    } finally {
      latency.off();
      for (const event of ['start', 'end', 'asyncStart', 'asyncEnd', 'error']) diagnosticsChannel.unsubscribe(`tracing:nest-cachekit:set:${event}`, all);
      await app.close();
    }
    // The set is published on its channel (listened to); the gets are sampled: the first decision, then every 10th.
    expect(seen).toHaveLength(4);
    expect(latency.messages.filter((m) => m.operation === 'get')).toHaveLength(10);
  });

  it('publishes nothing with observability.metrics false', async () => {
    const app = await start({ observability: { metrics: false, latencySampleEvery: 1 } });
    const latency = recordLatency();
    try {
      for (let i = 0; i < 20; i++) await app.get(CacheService).get('k');
    } finally {
      latency.off();
      await app.close();
    }
    expect(latency.messages).toEqual([]);
  });

  it('sees a subscriber that arrives after start on the very next call', async () => {
    const app = await start({ observability: { latencySampleEvery: 8 } });
    const cache = app.get(CacheService);
    for (let i = 0; i < 3; i++) await cache.get('k');
    const latency = recordLatency();
    const tracing = recordTracing(['get']);
    try {
      await cache.get('k');
    } finally {
      latency.off();
      tracing.off();
      await app.close();
    }
    expect(tracing.events.map(([event]) => event)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
    expect(latency.messages).toHaveLength(1);
  });
});
