import { Injectable, INestApplicationContext } from '@nestjs/common';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Test } from '@nestjs/testing';
import { BackendContext, CacheBackend, CacheBackendFactory } from '../backends/cache-backend.interface';
import { CacheModule } from '../cache.module';
import { CacheService } from '../cache.service';
import { Cacheable } from '../decorators/cacheable.decorator';
import { CacheModuleOptions } from '../options/cache-module-options.interface';
import { markCacheTier } from '../tracing/mark-cache-tier';
import { CacheOtelModule } from './cache-otel.module';
import { CacheOtelTracing } from './cache-otel-tracing';
import { CacheTracer } from './cache-tracer';
import { CacheOtelOptions } from './otel-options';

const exporter = new InMemorySpanExporter();
const contextManager = new AsyncLocalStorageContextManager();

/** An asynchronous backend that can fail on demand and says which tier answered. */
class TierBackendFactory implements CacheBackendFactory {
  failing = false;
  readonly store = new Map<string, unknown>();
  create(_context: BackendContext): CacheBackend {
    return {
      name: 'tiered-test',
      storesLiveValues: false,
      get: async (key: string) => {
        if (this.failing) throw new Error('connection reset while reading secret-key-123');
        markCacheTier(this.store.has(key) ? 'l2' : 'none');
        return this.store.get(key);
      },
      set: async (key: string, value: unknown) => {
        this.store.set(key, value);
      },
      delete: async (key: string) => {
        return this.store.delete(key);
      },
      has: async (key: string) => {
        return this.store.has(key);
      },
      mget: async (keys: readonly string[]) => {
        return keys.map((k) => this.store.get(k));
      },
      mset: async () => {},
      clear: async () => {
        const n = this.store.size;
        this.store.clear();
        return n;
      },
    };
  }
}

@Injectable()
class Catalogue {
  @Cacheable({ namespace: 'tracks', key: 'track:{0}' })
  async find(id: string): Promise<{ id: string }> {
    // Work the loader does (a database call, say) shows up under the cache's load span.
    const span = trace.getTracer('app').startSpan('db.query');
    span.end();
    return { id };
  }
}

/** A synchronous method: cached through getOrSetSync (memory namespaces only). */
@Injectable()
class SyncCatalogue {
  @Cacheable({ namespace: 'tracks', key: 'sync:{0}' })
  find(id: string): { id: string } {
    trace.getTracer('app').startSpan('lookup.sync').end();
    return { id };
  }
}

/** An app with the cache and its OpenTelemetry part (`nest-cachekit/otel`), unless `otel` is null. */
async function start(options: CacheModuleOptions = {}, providers: any[] = [Catalogue], otel: CacheOtelOptions | null = {}): Promise<INestApplicationContext> {
  const moduleRef = await Test.createTestingModule({
    imports: [CacheModule.forRoot({ namespaces: { tracks: {} }, ...options }), ...(otel === null ? [] : [CacheOtelModule.forRoot(otel)])],
    providers,
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  return app.init();
}

const byName = (name: string): ReadableSpan[] => exporter.getFinishedSpans().filter((s) => s.name === name);
const parentId = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId;

describe('tracing with an OpenTelemetry SDK registered (in-memory exporter)', () => {
  let app: INestApplicationContext;

  beforeAll(async () => {
    context.setGlobalContextManager(contextManager.enable());
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    app = await start({ observability: { metrics: false } }, [Catalogue, SyncCatalogue]);
  });

  afterAll(async () => {
    await app.close();
    trace.disable();
    context.disable();
  });

  beforeEach(() => exporter.reset());

  it('makes one span per operation, with namespace, backend, operation and hit/miss', async () => {
    const cache = app.get(CacheService).namespace('tracks');
    await cache.get('track:1');
    await cache.set('track:1', { id: '1' });
    await cache.get('track:1');
    const gets = byName('cache.get');
    expect(gets.map((s) => s.attributes['cache.hit'])).toEqual([false, true]);
    expect(gets[0].attributes).toMatchObject({ 'cache.namespace': 'tracks', 'cache.backend': 'memory', 'cache.operation': 'get' });
    expect(byName('cache.set')).toHaveLength(1);
    expect(exporter.getFinishedSpans()).toHaveLength(3);
  });

  it('getOrSet: the loader call is a child span, and the loader\'s own work a child of that', async () => {
    const cache = app.get(CacheService).namespace('tracks');
    const value = await cache.getOrSet('track:2', async () => {
      trace.getTracer('app').startSpan('db.query').end();
      return { id: '2' };
    });
    expect(value).toEqual({ id: '2' });
    const [outer] = byName('cache.getOrSet');
    const [load] = byName('cache.load');
    const [db] = byName('db.query');
    expect(outer.attributes['cache.hit']).toBe(false);
    expect(parentId(load)).toBe(outer.spanContext().spanId);
    expect(parentId(db)).toBe(load.spanContext().spanId);
    // The get inside getOrSet is part of the getOrSet span, not a span of its own.
    expect(byName('cache.get')).toHaveLength(0);

    exporter.reset();
    await cache.getOrSet('track:2', () => ({ id: 'never' }));
    expect(byName('cache.getOrSet').map((s) => s.attributes['cache.hit'])).toEqual([true]);
    expect(byName('cache.load')).toHaveLength(0);
  });

  it('traces a synchronous @Cacheable method too: cache.getOrSet (miss, then hit) with cache.load and the method\'s work under it', () => {
    const catalogue = app.get(SyncCatalogue);
    expect(catalogue.find('s1')).toEqual({ id: 's1' });
    expect(catalogue.find('s1')).toEqual({ id: 's1' });
    const outer = byName('cache.getOrSet');
    expect(outer.map((s) => s.attributes['cache.hit'])).toEqual([false, true]);
    const [load] = byName('cache.load');
    const [work] = byName('lookup.sync');
    expect(parentId(load)).toBe(outer[0].spanContext().spanId);
    expect(parentId(work)).toBe(load.spanContext().spanId);
    expect(byName('cache.load')).toHaveLength(1);
  });

  it('propagates through @Cacheable: request span → cache.getOrSet → cache.load → the method\'s work', async () => {
    const catalogue = app.get(Catalogue);
    await trace.getTracer('app').startActiveSpan('GET /tracks/:id', async (request) => {
      await catalogue.find('9');
      request.end();
    });
    const [request] = byName('GET /tracks/:id');
    const [outer] = byName('cache.getOrSet');
    const [load] = byName('cache.load');
    const [db] = byName('db.query');
    expect(parentId(outer)).toBe(request.spanContext().spanId);
    expect(parentId(load)).toBe(outer.spanContext().spanId);
    expect(parentId(db)).toBe(load.spanContext().spanId);
    expect(outer.spanContext().traceId).toBe(request.spanContext().traceId);
  });
});

describe('tracing: tiers and failures', () => {
  let app: INestApplicationContext;
  const factory = new TierBackendFactory();

  beforeAll(async () => {
    context.setGlobalContextManager(contextManager.enable());
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    app = await start({ backends: { tiered: factory }, defaults: { backend: 'tiered' } });
  });

  afterAll(async () => {
    await app.close();
    trace.disable();
    context.disable();
  });

  beforeEach(() => exporter.reset());

  it('records the tier a backend reports with markCacheTier()', async () => {
    const cache = app.get(CacheService).namespace('tracks');
    await cache.set('track:5', { id: '5' });
    await cache.get('track:5');
    const [get] = byName('cache.get');
    expect(get.attributes).toMatchObject({ 'cache.tier': 'l2', 'cache.hit': true, 'cache.backend': 'tiered-test' });
  });

  it('marks a failed operation as an error, naming the error but not its message (which may quote a key)', async () => {
    const cache = app.get(CacheService).namespace('tracks');
    factory.failing = true;
    await expect(cache.get('secret-key-123')).rejects.toThrow('failed during get');
    factory.failing = false;
    const [get] = byName('cache.get');
    expect(get.status.code).toBe(2); // SpanStatusCode.ERROR
    expect(get.status.message).toBe('CACHE_BACKEND_UNAVAILABLE/Error');
    expect(get.events.map((e) => e.name)).toEqual(['exception']);
    expect(JSON.stringify({ attributes: get.attributes, events: get.events, status: get.status })).not.toContain('secret-key-123');
  });
});

describe('tracing switched off, or no SDK', () => {
  beforeEach(() => exporter.reset());

  it('makes no span with observability.tracing false, even with an SDK registered', async () => {
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    const app = await start({ observability: { tracing: false } });
    await app.get(CacheService).namespace('tracks').getOrSet('k', () => 1);
    await app.close();
    trace.disable();
    expect(exporter.getFinishedSpans()).toHaveLength(0);
  });

  it('makes no span without CacheOtelModule, even with an SDK registered', async () => {
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    const app = await start({}, [Catalogue], null);
    await app.get(CacheService).namespace('tracks').getOrSet('k', () => 1);
    await app.close();
    trace.disable();
    expect(exporter.getFinishedSpans()).toHaveLength(0);
  });

  it('is a no-op without an SDK, and notices one registered later', async () => {
    const tracer = new CacheTracer();
    expect(tracer.refresh()).toBe(false);
    expect(tracer.current).toBeNull();
    const app = await start({}, [Catalogue], { providerCheckIntervalMs: 20 });
    const cache = app.get(CacheService).namespace('tracks');
    await expect(cache.getOrSet('k', () => 1)).resolves.toBe(1);
    await expect(cache.get('k')).resolves.toBe(1);

    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    expect(tracer.refresh()).toBe(true);
    expect(tracer.current).not.toBeNull();
    // The module looks again every providerCheckIntervalMs and subscribes; the namespace sees it on its next call.
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (let i = 0; i < 1100; i++) await cache.get('k');
    await app.close();
    trace.disable();
    expect(byName('cache.get')).toHaveLength(1100);
  });

  it('unsubscribes when the SDK goes, and makes spans with a tracerProvider given, SDK or not', async () => {
    const app = await start({}, [Catalogue], { providerCheckIntervalMs: 20 });
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    app.get(CacheOtelTracing).refresh();
    const cache = app.get(CacheService).namespace('tracks');
    for (let i = 0; i < 300; i++) await cache.get('k');
    const made = byName('cache.get').length;
    expect(made).toBeGreaterThan(0);
    trace.disable();
    app.get(CacheOtelTracing).refresh();
    for (let i = 0; i < 300; i++) await cache.get('k');
    expect(byName('cache.get').length).toBe(made);
    await app.close();

    exporter.reset();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const own = await start({}, [Catalogue], { tracerProvider: provider });
    await own.get(CacheService).namespace('tracks').get('k');
    await own.close();
    expect(byName('cache.get')).toHaveLength(1);
  });
});
