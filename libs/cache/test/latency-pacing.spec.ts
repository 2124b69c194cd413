/**
 * Latency on remote (asynchronous) backends is timed per operation at most once per 0.1 ms: every
 * call at a modest rate, a bounded number under load; `latencySampleEvery: 1` times every call.
 */
import { Test } from '@nestjs/testing';
import { Registry } from 'prom-client';
import { parsePrometheusText, sampleValue } from '../../../test/support/prometheus-text';
import { CacheModule } from '../src/cache.module';
import { CacheService } from '../src/cache.service';
import { CachePrometheusModule } from '../src/prometheus/cache-prometheus.module';
import { MapBackendFactory } from './map-backend.fixture';

async function timedGets(latencySampleEvery: number | undefined, run: (get: () => Promise<unknown>, clock: { now: number }) => Promise<void>): Promise<number> {
  const registry = new Registry();
  const clock = { now: 1_000 };
  const spy = jest.spyOn(performance, 'now').mockImplementation(() => clock.now);
  const moduleRef = await Test.createTestingModule({
    imports: [CacheModule.forRoot({
      backends: { map: new MapBackendFactory() },
      namespaces: { users: { backend: 'map' } },
      observability: { tracing: false, ...(latencySampleEvery !== undefined && { latencySampleEvery }) },
    }), CachePrometheusModule.forRoot({ registry })],
  }).compile();
  try {
    await moduleRef.init();
    const users = moduleRef.get(CacheService).namespace('users');
    await users.set('u1', 'v');
    await run(() => users.get('u1'), clock);
    const samples = parsePrometheusText(await registry.metrics());
    return sampleValue(samples, 'nest_cachekit_operation_duration_seconds_count', { namespace: 'users', backend: 'map', operation: 'get' })!;
  } finally {
    spy.mockRestore();
    await moduleRef.close();
  }
}

describe('latency pacing on remote backends', () => {
  it('times one get per 0.1 ms: 500 gets at one instant give one sample, spaced 0.2 ms apart every one', async () => {
    expect(await timedGets(undefined, async (get) => {
      for (let i = 0; i < 500; i++) await get();
    })).toBe(1);
    expect(await timedGets(undefined, async (get, clock) => {
      for (let i = 0; i < 50; i++) {
        clock.now += 0.2;
        await get();
      }
    })).toBe(50);
  });

  it('times every call with latencySampleEvery: 1', async () => {
    expect(await timedGets(1, async (get) => {
      for (let i = 0; i < 100; i++) await get();
    })).toBe(100);
  });
});
