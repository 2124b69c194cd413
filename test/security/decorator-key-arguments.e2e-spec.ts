/**
 * Threat: arguments a client controls that cannot fill a key template at all. A template reads a
 * property of a query or body object (`report:{filter.id}`): a client who leaves the property out
 * (or sends a value no key can hold) must not turn the request into a 500, nor share one entry
 * among every request that lacks it. The decorated method runs without the cache, counted in
 * `stats().invalidKeyBypasses` and logged naming the method, never the arguments; a `@CachePut` or
 * `@CacheEvict` whose key or tag cannot be made still runs its method and answers. Access denials are
 * never bypassed this way.
 *
 * And value objects: an id that a pipe turns into a class instance whose state is private (`#id`,
 * prototype getters) has no own properties, so written as its fields every instance would give one
 * key, and every document one entry. Such values are keyed by `toJSON()` or `toString()` when the
 * class writes one, and run uncached otherwise.
 */
import { Body, Controller, Get, INestApplication, Injectable, LoggerService, Param, PipeTransform, Post, Query } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { CacheEvict, CacheModule, CachePut, CacheService, Cacheable } from 'nest-cachekit';
import request from 'supertest';

class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  log(message: unknown) { this.lines.push(String(message)); }
  error(message: unknown) { this.lines.push(String(message)); }
  warn(message: unknown) { this.lines.push(String(message)); }
  debug(message: unknown) { this.lines.push(String(message)); }
  verbose(message: unknown) { this.lines.push(String(message)); }
}

interface Filter { id?: unknown; region?: string }

/** A value object: its state is private, it says what it is through toString(). */
class DocumentId {
  readonly #value: string;
  constructor(value: string) { this.#value = value; }
  toString(): string { return this.#value; }
}

/** A value object that says nothing about itself. */
class OpaqueHandle {
  readonly #value: string;
  constructor(value: string) { this.#value = value; }
  get value(): string { return this.#value; }
}

class ToDocumentId implements PipeTransform<string, DocumentId> {
  transform(value: string): DocumentId { return new DocumentId(value); }
}
class ToOpaqueHandle implements PipeTransform<string, OpaqueHandle> {
  transform(value: string): OpaqueHandle { return new OpaqueHandle(value); }
}
class ToUrl implements PipeTransform<string, URL> {
  transform(value: string): URL { return new URL(`https://docs.example/${encodeURIComponent(value)}`); }
}

@Injectable()
class DocumentsService {
  loads = 0;

  @Cacheable({ namespace: 'reports', key: 'doc:{id}' })
  async byId(id: DocumentId): Promise<{ doc: string; load: number }> {
    return { doc: String(id), load: ++this.loads };
  }

  @Cacheable({ namespace: 'reports' })
  async byHandle(handle: OpaqueHandle): Promise<{ doc: string; load: number }> {
    return { doc: handle.value, load: ++this.loads };
  }

  @Cacheable({ namespace: 'reports', key: 'url:{url}' })
  async byUrl(url: URL): Promise<{ doc: string; load: number }> {
    return { doc: url.pathname, load: ++this.loads };
  }
}

@Controller('docs')
class DocumentsController {
  constructor(private readonly documents: DocumentsService) {}

  @Get('by-id/:id')
  byId(@Param('id', ToDocumentId) id: DocumentId) {
    return this.documents.byId(id);
  }

  @Get('by-handle/:id')
  byHandle(@Param('id', ToOpaqueHandle) handle: OpaqueHandle) {
    return this.documents.byHandle(handle);
  }

  @Get('by-url/:id')
  byUrl(@Param('id', ToUrl) url: URL) {
    return this.documents.byUrl(url);
  }
}

@Injectable()
class ReportsService {
  loads = 0;
  readonly ran: string[] = [];

  @Cacheable({ namespace: 'reports', key: 'report:{filter.id}', tags: ['region:{filter.region}'] })
  async report(filter: Filter): Promise<{ id: unknown; region: unknown; load: number }> {
    return { id: filter.id ?? null, region: filter.region ?? null, load: ++this.loads };
  }

  @Cacheable({ namespace: 'reports', key: 'sync:{filter.id}' })
  syncReport(filter: Filter): { id: unknown; load: number } {
    return { id: filter.id ?? null, load: ++this.loads };
  }

  @CachePut({ namespace: 'reports', key: 'report:{filter.id}' })
  async save(filter: Filter): Promise<{ id: unknown; load: number }> {
    this.ran.push('save');
    return { id: filter.id ?? null, load: ++this.loads };
  }

  @CacheEvict({ namespace: 'reports', key: 'report:{filter.id}', tags: ['region:{filter.region}'] })
  async remove(filter: Filter): Promise<{ removed: boolean }> {
    this.ran.push('remove');
    return { removed: filter !== undefined };
  }
}

@Controller('reports')
class ReportsController {
  constructor(private readonly reports: ReportsService) {}

  @Get()
  report(@Query() filter: Filter) {
    return this.reports.report(filter);
  }

  @Get('sync')
  syncReport(@Query() filter: Filter) {
    return this.reports.syncReport(filter);
  }

  @Post('save')
  save(@Body() filter: Filter) {
    return this.reports.save(filter);
  }

  @Post('remove')
  remove(@Body() filter: Filter) {
    return this.reports.remove(filter);
  }
}

describe('arguments that cannot fill a key template', () => {
  let app: INestApplication;
  let cache: CacheService;
  let reports: ReportsService;
  const logger = new CapturingLogger();

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [CacheModule.forRoot({ namespaces: { reports: {} } })],
      controllers: [ReportsController, DocumentsController],
      providers: [ReportsService, DocumentsService],
    }).compile();
    app = moduleRef.createNestApplication({ logger });
    await app.init();
    cache = app.get(CacheService);
    reports = app.get(ReportsService);
  });
  afterAll(() => app.close());

  const bypasses = () => cache.namespace('reports').stats().invalidKeyBypasses ?? 0;

  it('runs the method uncached when the client leaves out the property a key template reads, instead of a 500', async () => {
    const before = bypasses();
    logger.lines.length = 0;
    const first = await request(app.getHttpServer()).get('/reports?region=secret-region-1').expect(200);
    const second = await request(app.getHttpServer()).get('/reports?region=secret-region-2').expect(200);
    // Never one shared entry for "no id": each request ran the method with its own arguments.
    expect(first.body).toMatchObject({ id: null, region: 'secret-region-1' });
    expect(second.body).toMatchObject({ id: null, region: 'secret-region-2', load: first.body.load + 1 });
    expect(bypasses()).toBe(before + 2);
    const lines = logger.lines.filter((l) => l.startsWith('cache.invalidKey'));
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines[0]).toContain('method=ReportsService.report');
    expect(lines[0]).toContain('reason=CACHE_KEY_ARGUMENT');
    expect(logger.lines.join('\n')).not.toContain('secret-region');
  });

  it('runs the method uncached when only a tag template cannot be filled, and caches once it can', async () => {
    const before = bypasses();
    const first = await request(app.getHttpServer()).get('/reports?id=7').expect(200);
    const second = await request(app.getHttpServer()).get('/reports?id=7').expect(200);
    expect(second.body.load).toBe(first.body.load + 1);
    expect(bypasses()).toBe(before + 2);
    const tagged = await request(app.getHttpServer()).get('/reports?id=7&region=eu').expect(200);
    expect((await request(app.getHttpServer()).get('/reports?id=7&region=eu').expect(200)).body).toEqual(tagged.body);
  });

  it('does the same for a synchronous cached method', async () => {
    const before = bypasses();
    const first = await request(app.getHttpServer()).get('/reports/sync').expect(200);
    const second = await request(app.getHttpServer()).get('/reports/sync').expect(200);
    expect(second.body.load).toBe(first.body.load + 1);
    expect(bypasses()).toBe(before + 2);
  });

  it('@CachePut and @CacheEvict run their method and answer when the body lacks the key\'s property', async () => {
    reports.ran.length = 0;
    const before = bypasses();
    await request(app.getHttpServer()).post('/reports/save').send({ region: 'eu' }).expect(201);
    await request(app.getHttpServer()).post('/reports/remove').send({}).expect(201);
    expect(reports.ran).toEqual(['save', 'remove']);
    // The put could not store, the evict could neither evict its key nor its tag.
    expect(bypasses()).toBe(before + 3);
  });

  it('still writes and evicts what the template addresses when the property is there', async () => {
    const saved = await request(app.getHttpServer()).post('/reports/save').send({ id: 'x1' }).expect(201);
    expect(await cache.namespace('reports').get('report:x1')).toEqual(saved.body);
    await request(app.getHttpServer()).post('/reports/remove').send({ id: 'x1', region: 'eu' }).expect(201);
    expect(await cache.namespace('reports').get('report:x1')).toBeUndefined();
  });

  it.each(['by-id', 'by-url'])('keys value objects (%s) by what they say they are: one document never answers for another', async (route) => {
    const alice = await request(app.getHttpServer()).get(`/docs/${route}/alice-invoice`).expect(200);
    const bob = await request(app.getHttpServer()).get(`/docs/${route}/bob-invoice`).expect(200);
    expect(bob.body.doc).toContain('bob-invoice');
    expect((await request(app.getHttpServer()).get(`/docs/${route}/alice-invoice`).expect(200)).body).toEqual(alice.body);
  });

  it('runs the method uncached for a value object that says nothing about itself, instead of one entry for all', async () => {
    const before = bypasses();
    const alice = await request(app.getHttpServer()).get('/docs/by-handle/alice-invoice').expect(200);
    const bob = await request(app.getHttpServer()).get('/docs/by-handle/bob-invoice').expect(200);
    expect(alice.body.doc).toBe('alice-invoice');
    expect(bob.body.doc).toBe('bob-invoice');
    expect(bypasses()).toBe(before + 2);
  });
});
