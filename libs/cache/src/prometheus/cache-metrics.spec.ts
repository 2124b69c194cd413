import { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Counter, Registry } from 'prom-client';
import { parsePrometheusText, PromSample, sampleValue } from '../../../../test/support/prometheus-text';
import { BackendContext, BackendStats, CacheBackend, CacheBackendFactory } from '../backends/cache-backend.interface';
import { MemoryBackend } from '../backends/memory/memory-backend';
import { CacheModule } from '../cache.module';
import { CacheService } from '../cache.service';
import { InvalidOptionsError } from '../errors/invalid-options.error';
import { CacheModuleOptions } from '../options/cache-module-options.interface';
import { OP } from '../tracing/cache-operations';
import { CachePrometheusModule } from './cache-prometheus.module';
import { MetricNameTakenError } from './metric-name-taken.error';
import { OperationTimings } from './operation-timings';
import { CachePrometheusOptions } from './prometheus-options';

/** An app with the cache and its Prometheus part (`nest-cachekit/prometheus`). */
async function start(options: CacheModuleOptions, prometheus: CachePrometheusOptions = {}): Promise<INestApplicationContext> {
  const moduleRef = await Test.createTestingModule({
    imports: [CacheModule.forRoot(options), CachePrometheusModule.forRoot(prometheus)],
  }).compile();
  return moduleRef.createNestApplication({ logger: false }).init();
}

const scrape = async (registry: Registry): Promise<PromSample[]> => parsePrometheusText(await registry.metrics());

/** A memory backend that also reports the figures other parts of the cache add (tiers, fallbacks, tamper). */
class ReportingBackendFactory implements CacheBackendFactory {
  extra: Record<string, unknown> = {};
  create(context: BackendContext): CacheBackend {
    const backend = new MemoryBackend({ maxEntries: context.maxEntries, namespace: context.namespace });
    const extra = () => this.extra;
    return Object.assign(Object.create(backend) as MemoryBackend, {
      name: 'reporting',
      stats: (): BackendStats => ({ ...backend.stats(), ...extra() }),
    });
  }
}

describe('Prometheus metrics', () => {
  it('exports the counters at scrape time, with the values of stats()', async () => {
    const registry = new Registry();
    const app = await start({ namespaces: { users: { maxEntries: 2 } }, observability: { latencySampleEvery: 1 } }, { registry });
    const users = app.get(CacheService).namespace('users');
    await users.set('a', 1);
    await users.set('b', 2);
    await users.set('c', 3); // evicts one (capacity 2)
    await users.get('c');
    await users.get('zz');
    await users.invalidate('c');
    const samples = await scrape(registry);
    const labels = { namespace: 'users', backend: 'memory' };
    expect(sampleValue(samples, 'nest_cachekit_sets_total', labels)).toBe(3);
    expect(sampleValue(samples, 'nest_cachekit_hits_total', labels)).toBe(1);
    expect(sampleValue(samples, 'nest_cachekit_misses_total', labels)).toBe(1);
    expect(sampleValue(samples, 'nest_cachekit_evictions_total', { ...labels, reason: 'capacity' })).toBe(1);
    expect(sampleValue(samples, 'nest_cachekit_evictions_total', { ...labels, reason: 'explicit' })).toBe(1);
    expect(sampleValue(samples, 'nest_cachekit_entries', labels)).toBe(1);
    // latencySampleEvery: 1 times every memory call.
    expect(sampleValue(samples, 'nest_cachekit_operation_duration_seconds_count', { ...labels, operation: 'set' })).toBe(3);
    expect(sampleValue(samples, 'nest_cachekit_operation_duration_seconds_count', { ...labels, operation: 'get' })).toBe(2);
    expect(sampleValue(samples, 'nest_cachekit_operation_duration_seconds_count', { ...labels, operation: 'invalidate' })).toBe(1);
    const stats = users.stats();
    expect(sampleValue(samples, 'nest_cachekit_bytes', labels)).toBe(stats.bytes);
    await app.close();
  });

  it('counts coalesced getOrSet calls: callers that joined a running load', async () => {
    const registry = new Registry();
    const app = await start({}, { registry });
    const cache = app.get(CacheService);
    let release!: (v: string) => void;
    const loader = jest.fn(() => new Promise<string>((resolve) => { release = resolve; }));
    const calls = [cache.getOrSet('k', loader), cache.getOrSet('k', loader), cache.getOrSet('k', loader)];
    await new Promise((r) => setImmediate(r));
    release('v');
    expect(await Promise.all(calls)).toEqual(['v', 'v', 'v']);
    expect(loader).toHaveBeenCalledTimes(1);
    expect(cache.stats()[0].coalesced).toBe(2);
    expect(sampleValue(await scrape(registry), 'nest_cachekit_coalesced_total', { namespace: 'default' })).toBe(2);
    await app.close();
  });

  it('lights up tier, tamper, fallback and stale counters once a backend or namespace reports them', async () => {
    const registry = new Registry();
    const factory = new ReportingBackendFactory();
    const app = await start({ backends: { reporting: factory }, defaults: { backend: 'reporting' } }, { registry });
    let samples = await scrape(registry);
    const labels = { namespace: 'default', backend: 'reporting' };
    expect(sampleValue(samples, 'nest_cachekit_tamper_detections_total', labels)).toBe(0);
    expect(samples.some((s) => s.name === 'nest_cachekit_tier_hits_total')).toBe(false);

    factory.extra = {
      tamperDetected: 2, fallbacks: 3, staleServed: 4,
      tiers: { l1: { hits: 6, misses: 2, sets: 2, errors: 0 }, l2: { hits: 1, misses: 1, sets: 2, errors: 1 } },
    };
    samples = await scrape(registry);
    expect(sampleValue(samples, 'nest_cachekit_tamper_detections_total', labels)).toBe(2);
    expect(sampleValue(samples, 'nest_cachekit_fallbacks_total', labels)).toBe(3);
    expect(sampleValue(samples, 'nest_cachekit_stale_served_total', labels)).toBe(4);
    expect(sampleValue(samples, 'nest_cachekit_tier_hits_total', { ...labels, tier: 'l1' })).toBe(6);
    expect(sampleValue(samples, 'nest_cachekit_tier_misses_total', { ...labels, tier: 'l2' })).toBe(1);
    expect(sampleValue(samples, 'nest_cachekit_tier_errors_total', { ...labels, tier: 'l2' })).toBe(1);
    // stats(): the hit ratio per tier as well as per namespace.
    const stats = app.get(CacheService).stats()[0] as unknown as { tiers: Record<string, { hitRatio: number }> };
    expect(stats.tiers.l1.hitRatio).toBe(0.75);
    expect(stats.tiers.l2.hitRatio).toBe(0.5);
    await app.close();
  });

  it('gets-or-creates by name: two modules share one set of metrics, and each removes only its own figures', async () => {
    const registry = new Registry();
    const one = await start({ namespaces: { users: {} } }, { registry });
    const two = await start({ namespaces: { users: {}, tracks: {} } }, { registry });
    await one.get(CacheService).namespace('users').set('a', 1);
    await two.get(CacheService).namespace('users').set('a', 1);
    await two.get(CacheService).namespace('users').set('b', 1);
    let samples = await scrape(registry);
    expect(sampleValue(samples, 'nest_cachekit_sets_total', { namespace: 'users' })).toBe(3);
    expect(registry.getMetricsAsArray().filter((m) => m.name === 'nest_cachekit_sets_total')).toHaveLength(1);
    await two.close();
    samples = await scrape(registry);
    expect(sampleValue(samples, 'nest_cachekit_sets_total', { namespace: 'users' })).toBe(1);
    expect(sampleValue(samples, 'nest_cachekit_sets_total', { namespace: 'tracks' })).toBeUndefined();
    await one.close();
  });

  it('refuses to start when another metric holds one of its names', async () => {
    const registry = new Registry();
    new Counter({ name: 'nest_cachekit_hits_total', help: 'someone else', registers: [registry] });
    await expect(start({}, { registry })).rejects.toThrow(MetricNameTakenError);
  });

  it('registers nothing with observability.metrics false', async () => {
    const registry = new Registry();
    const app = await start({ observability: { metrics: false } }, { registry });
    await app.get(CacheService).set('a', 1);
    expect(registry.getMetricsAsArray()).toHaveLength(0);
    await app.close();
  });

  it('validates the observability options, naming the field', async () => {
    const bad = { latencySampleEvery: 0, colour: 'red' } as never;
    const error = await start({ observability: bad }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionsError);
    const message = (error as Error).message;
    expect(message).toContain('observability.latencySampleEvery');
    expect(message).toContain('observability.colour: is not a known option');
  });

  it('validates the Prometheus options, naming the field', async () => {
    const bad = { latencyBuckets: [0.1, 0.05], registry: {}, colour: 'red' } as never;
    const error = await start({}, bad).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionsError);
    const message = (error as Error).message;
    expect(message).toContain('CachePrometheusModule.latencyBuckets');
    expect(message).toContain('CachePrometheusModule.registry: must be a prom-client Registry');
    expect(message).toContain('CachePrometheusModule.colour: is not a known option');
  });

  it('points the options that moved to CachePrometheusModule there', async () => {
    const error = await start({ observability: { registry: new Registry(), latencyBuckets: [1] } as never }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as Error).message).toContain('observability.registry: is an option of CachePrometheusModule.forRoot({ registry })');
    expect((error as Error).message).toContain('observability.latencyBuckets: is an option of CachePrometheusModule.forRoot({ latencyBuckets })');
  });
});

describe('OperationTimings', () => {
  it('puts a duration in the first bucket whose bound is >= it, and reports cumulative counts', () => {
    const timings = new OperationTimings([0.001, 0.01, 0.1]);
    for (const seconds of [0.0005, 0.001, 0.002, 0.01, 0.5]) timings.record(OP.get, seconds);
    expect(timings.cumulative(OP.get)).toEqual([2, 4, 4, 5]);
    expect(timings.totals[OP.get]).toBe(5);
    expect(timings.sums[OP.get]).toBeCloseTo(0.5135, 10);
    expect(timings.cumulative(OP.set)).toEqual([0, 0, 0, 0]);
  });
});
