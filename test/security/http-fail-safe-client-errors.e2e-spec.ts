/**
 * Threat: a cached route on a tiered namespace with a fail-safe. The fail-safe answers a failing
 * handler with the stale copy: right for an outage, wrong for a refusal. When a document is deleted
 * or a user's access to it is revoked, the handler answers 404 or 403 on purpose; were the stale copy
 * sent instead, the deleted or revoked document would keep being served for the whole grace period.
 * A 4xx the handler (or a `@Cacheable` loader) throws is its answer and is sent as is; only
 * server-side failures (5xx, other errors) are answered from the stale copy.
 */
import { Controller, ForbiddenException, Get, Injectable, NotFoundException, Param, ServiceUnavailableException, UseInterceptors } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { CacheInterceptor, CacheModule, CacheRoute, Cacheable } from 'nest-cachekit';
import { createHttpApp, HTTP_ADAPTERS, HttpApp } from '../support/http-app';
import { sleep, useRedisServer } from '../support/redis-server';

const TTL_MS = 150;
type DocState = 'ok' | 'deleted' | 'revoked' | 'down';

function load(id: string, state: DocState | undefined, call: number) {
  switch (state ?? 'ok') {
    case 'deleted': throw new NotFoundException();
    case 'revoked': throw new ForbiddenException();
    case 'down': throw new ServiceUnavailableException();
    default: return { id, body: `contents of ${id}`, call };
  }
}

/** The same documents through a decorated service method (no CacheInterceptor). */
@Injectable()
class DocumentsService {
  readonly state = new Map<string, DocState>();
  private calls = 0;

  @Cacheable({ namespace: 'docs', key: 'svc:{id}', ttl: TTL_MS })
  async read(id: string) {
    return load(id, this.state.get(id), ++this.calls);
  }
}

@Controller()
@UseInterceptors(CacheInterceptor)
class DocumentsController {
  /** What happens to each document from now on. */
  readonly state = new Map<string, DocState>();
  private calls = 0;

  constructor(readonly service: DocumentsService) {}

  @Get('docs/:id')
  @CacheRoute({ namespace: 'docs', ttl: TTL_MS })
  read(@Param('id') id: string) {
    return load(id, this.state.get(id), ++this.calls);
  }

  @Get('svc/:id')
  readThroughService(@Param('id') id: string) {
    return this.service.read(id);
  }
}

describe.each(HTTP_ADAPTERS)('fail-safe and the handler\'s own 4xx answers, on %s', (adapter) => {
  const redis = useRedisServer({ flushBeforeEach: true });
  let http: HttpApp;
  let controller: DocumentsController;

  beforeEach(async () => {
    http = await createHttpApp(adapter, {
      imports: [CacheModule.forRoot({
        isGlobal: true,
        redis: { url: redis.server.url },
        bus: { secret: randomBytes(32).toString('base64'), heartbeat: '100ms' },
        namespaces: { docs: { backend: 'redis', l1: {}, failSafe: { grace: '1h' } } },
      })],
      controllers: [DocumentsController],
      providers: [DocumentsService],
    });
    controller = http.app.get(DocumentsController);
  });
  afterEach(() => http.close());

  /** `id` cached, then stale (past its TTL, within the grace), then in `state`. */
  async function staleThen(route: 'docs' | 'svc', id: string, state: DocState) {
    const first = await http.send(`/${route}/${id}`);
    expect(first.status).toBe(200);
    expect((await http.send(`/${route}/${id}`)).body).toEqual(first.body);
    await sleep(TTL_MS + 100);
    (route === 'docs' ? controller.state : controller.service.state).set(id, state);
    return { first, after: await http.send(`/${route}/${id}`) };
  }

  describe.each(['docs', 'svc'] as const)('through %s (CacheInterceptor, @Cacheable)', (route) => {
    it.each([['deleted', 404], ['revoked', 403]] as const)('a document %s answers %i, never its stale copy', async (state, status) => {
      const { after } = await staleThen(route, `d-${state}`, state);
      expect(after.status).toBe(status);
      expect(after.text).not.toContain('contents of');
      expect(after.headers['x-cache']).toBeUndefined();
    });

    it('an outage (5xx) is still answered from the stale copy', async () => {
      const { first, after } = await staleThen(route, 'd-down', 'down');
      expect(after.status).toBe(200);
      expect(after.body).toEqual(first.body);
    });
  });
});
