/**
 * Threat: arguments a client controls that cannot fill a key template at all. A template reads a
 * property of a query or body object (`report:{filter.id}`): a client who leaves the property out
 * (or sends a value no key can hold) must not turn the request into a 500, nor share one entry
 * among every request that lacks it. The decorated method runs without the cache, counted in
 * `stats().invalidKeyBypasses` and logged naming the method, never the arguments; a `@CachePut` or
 * `@CacheEvict` whose key or tag cannot be made still runs its method and answers. Access denials are
 * never bypassed this way.
 */
import { Body, Controller, Get, INestApplication, Injectable, LoggerService, Post, Query } from '@nestjs/common';
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
    return { removed: true };
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
      controllers: [ReportsController],
      providers: [ReportsService],
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
});
