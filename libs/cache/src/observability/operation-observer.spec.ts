/**
 * What observing costs while nothing (or only a metrics subscriber) listens: counted, not timed.
 * The hot path of an operation is `due()`, one decrement; everything else runs at a decision.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { MapBackendFactory } from '../../test/map-backend.fixture';
import { CacheModule } from '../cache.module';
import { CacheService } from '../cache.service';
import * as channels from '../tracing/cache-channels';

async function start(): Promise<INestApplicationContext> {
  const moduleRef = await Test.createTestingModule({
    imports: [CacheModule.forRoot({ backends: { map: new MapBackendFactory() }, namespaces: { users: {}, remote: { backend: 'map' } } })],
  }).compile();
  return moduleRef.createNestApplication({ logger: false }).init();
}

/** Spies on everything a published or timed call would do. */
function spies() {
  const all = [
    jest.spyOn(performance, 'now'),
    jest.spyOn(channels.operationScope, 'run'),
    jest.spyOn(channels.LATENCY_CHANNEL, 'publish'),
    ...channels.OPERATION_CHANNELS.flatMap((c) => [
      jest.spyOn(c.start, 'runStores'), jest.spyOn(c.end, 'publish'), jest.spyOn(c.asyncEnd, 'publish'), jest.spyOn(c.error, 'publish'),
    ]),
  ];
  return {
    calls: () => all.reduce((n, spy) => n + spy.mock.calls.length, 0),
    now: all[0],
    scope: all[1],
    latency: all[2],
    restore: () => all.forEach((spy) => spy.mockRestore()),
  };
}

describe('OperationObserver with no subscriber', () => {
  let app: INestApplicationContext;
  beforeAll(async () => {
    app = await start();
  });
  afterAll(() => app.close());

  it('reads no clock, builds no message, calls no channel; looks at the channels once per 256 calls', async () => {
    const users = app.get(CacheService).namespace('users');
    const remote = app.get(CacheService).namespace('remote');
    await remote.set('k', 'v');
    const spy = spies();
    const looks = jest.spyOn(channels, 'traced');
    try {
      for (let i = 0; i < 1000; i++) await users.get('k');
      for (let i = 0; i < 1000; i++) await users.set(`k${i % 10}`, i);
      for (let i = 0; i < 1000; i++) await remote.get('k');
      expect(spy.calls()).toBe(0);
      // The users observer decided on its first call and every 256 after (2000 calls: 8 times);
      // remote's, which decided on its set, every 256 calls (1000 calls: 3 times).
      expect(looks).toHaveBeenCalledTimes(8 + 3);
    } finally {
      spy.restore();
      looks.mockRestore();
    }
  });

  it('with only nest-cachekit:latency listened to: samples, and enters no tracing store or AsyncLocalStorage scope', async () => {
    const users = app.get(CacheService).namespace('users');
    const remote = app.get(CacheService).namespace('remote');
    const messages: unknown[] = [];
    const listener = (message: unknown) => messages.push(message);
    diagnosticsChannel.subscribe('nest-cachekit:latency', listener);
    const spy = spies();
    try {
      for (let i = 0; i < 1024; i++) await users.get('k');
      expect(messages).toHaveLength(4);
      // Two clock reads per timed call, none for the others.
      expect(spy.now).toHaveBeenCalledTimes(8);
      for (let i = 0; i < 10; i++) await remote.get('k');
      expect(spy.scope).not.toHaveBeenCalled();
      expect(spy.calls() - spy.now.mock.calls.length - spy.latency.mock.calls.length).toBe(0);
    } finally {
      diagnosticsChannel.unsubscribe('nest-cachekit:latency', listener);
      spy.restore();
    }
  });
});
