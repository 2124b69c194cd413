/**
 * Observability of tiered namespaces on a real redis-server: `cache.tier` on spans says which tier
 * answered (an L1 hit, or L2 after an L1 miss on another instance); latency is sampled like memory.
 */
import { randomBytes } from 'node:crypto';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Test, TestingModule } from '@nestjs/testing';
import { RedisServer, sleep, startRedisServer } from '../../../test/support/redis-server';
import { CacheModule } from '../src/cache.module';
import { CacheService } from '../src/cache.service';
import { Registry } from 'prom-client';
import { parsePrometheusText, sampleValue } from '../../../test/support/prometheus-text';
import { CacheModuleOptions } from '../src/options/cache-module-options.interface';
import { CacheOtelModule } from '../src/otel/cache-otel.module';
import { CachePrometheusModule } from '../src/prometheus/cache-prometheus.module';

/** The bus secret every instance shares: a random key, as the module requires. */
const SECRET = randomBytes(32).toString('base64');
const exporter = new InMemorySpanExporter();

/** An instance with the OpenTelemetry part, or with the Prometheus part writing to `registry`. */
async function startInstance(
  url: string, observability: CacheModuleOptions['observability'] = { metrics: false }, registry?: Registry,
): Promise<{ moduleRef: TestingModule; cache: CacheService }> {
  const moduleRef = await Test.createTestingModule({
    imports: [CacheModule.forRoot({
      redis: { url },
      bus: { secret: SECRET, heartbeat: '100ms' },
      observability,
      namespaces: { users: { backend: 'redis', ttl: '1h', l1: {} } },
    }), registry === undefined ? CacheOtelModule.forRoot() : CachePrometheusModule.forRoot({ registry })],
  }).compile();
  await moduleRef.init();
  const cache = moduleRef.get(CacheService);
  const deadline = Date.now() + 5_000;
  while (cache.namespace('users').stats().bus?.connected !== true) {
    if (Date.now() > deadline) throw new Error('bus did not connect');
    await sleep(20);
  }
  return { moduleRef, cache };
}

describe('tracing of tiered namespaces', () => {
  let server: RedisServer;

  beforeAll(async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server.stop();
    trace.disable();
    context.disable();
  });

  it('marks an L1 hit with cache.tier=l1 and a read answered by Redis with cache.tier=l2', async () => {
    const [a, b] = [await startInstance(server.url), await startInstance(server.url)];
    try {
      await a.cache.namespace('users').set('u1', { name: 'Ada' });
      exporter.reset();
      expect(await a.cache.namespace('users').get('u1')).toEqual({ name: 'Ada' });
      expect(await b.cache.namespace('users').get('u1')).toEqual({ name: 'Ada' });
      expect(await b.cache.namespace('users').get('missing')).toBeUndefined();
      const gets = exporter.getFinishedSpans().filter((s) => s.name === 'cache.get');
      expect(gets.map((s) => [s.attributes['cache.hit'], s.attributes['cache.tier']])).toEqual([[true, 'l1'], [true, 'l2'], [false, undefined]]);
    } finally {
      await a.moduleRef.close();
      await b.moduleRef.close();
    }
  });
});

describe('latency sampling of tiered namespaces', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(() => server.stop());

  it('times 1 call in latencySampleEvery (L1 hits cost a few dozen ns; a timed call several times that)', async () => {
    const registry = new Registry();
    const one = await startInstance(server.url, { tracing: false, latencySampleEvery: 10 }, registry);
    try {
      const users = one.cache.namespace('users');
      await users.set('u1', { name: 'Ada' });
      for (let i = 0; i < 100; i++) expect(await users.get('u1')).toEqual({ name: 'Ada' });
      const samples = parsePrometheusText(await registry.metrics());
      const labels = { namespace: 'users', backend: 'redis', operation: 'get' };
      expect(sampleValue(samples, 'nest_cachekit_operation_duration_seconds_count', labels)).toBe(10);
      expect(sampleValue(samples, 'nest_cachekit_hits_total', { namespace: 'users', backend: 'redis' })).toBe(100);
    } finally {
      await one.moduleRef.close();
    }
  });
});
