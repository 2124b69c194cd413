/**
 * Threat: the all-powerful system principal is reached by accident or by name.
 *
 * - Code that runs outside any request (a queue consumer, a timer, an app's start-up hook, a callback
 *   that lost its context) acts on attacker-chosen input: it must be anonymous unless the app
 *   declares it its own work with `runAsSystem`.
 * - A user whose id is `system` (or `anonymous`) must get neither the system principal's rights nor
 *   its entries, and audit records must tell them apart (`actorKind`).
 * Real Nest apps on Express (supertest) and Fastify (`inject`), RBAC on, a namespace scoped per user.
 */
import {
  CanActivate, Controller, ExecutionContext, Get, INestApplication, Injectable, Module, OnApplicationBootstrap, Param, Post,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  AuditRecord, AuditSink, CacheAccessControl, CacheAccessDeniedError, CacheAdminModule, CacheModule, CacheService, Warmup,
} from 'nest-cachekit';
import { EventEmitter } from 'node:events';
import request from 'supertest';

/** A message queue client: created at start-up, it delivers messages in its own async context. */
class QueueClient extends EventEmitter {
  deliver(message: { op: 'clear' | 'read'; namespace: string; key?: string }): Promise<unknown> {
    return new Promise((resolve) => this.emit('message', message, resolve));
  }
}

/** Sets request.user from a header, as an auth guard would (the Fastify request on Fastify). */
@Injectable()
class HeaderAuthGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest();
    const id = req.headers['x-user'];
    if (typeof id === 'string') req.user = { id, roles: String(req.headers['x-roles'] ?? 'member').split(',') };
    return true;
  }
}

@Injectable()
class Jobs implements OnApplicationBootstrap {
  readonly queue = new QueueClient();
  readonly startup: string[] = [];

  constructor(
    private readonly cache: CacheService,
    private readonly access: CacheAccessControl,
  ) {
    // The consumer acts on whatever the message says, as queue consumers do.
    this.queue.on('message', (message: { op: string; namespace: string; key?: string }, done: (outcome: unknown) => void) => {
      const ns = this.cache.namespace(message.namespace);
      const work = message.op === 'clear' ? ns.clear() : ns.get(message.key!);
      work.then(done, (error: unknown) => done(error));
    });
  }

  /** An app's own start-up hook that fills caches: it must say it runs as the system. */
  async onApplicationBootstrap(): Promise<void> {
    try {
      await this.cache.namespace('catalog').set('implicit', 1);
      this.startup.push('implicit: written');
    } catch (error) {
      this.startup.push(`implicit: ${(error as Error).name}`);
    }
    await this.access.runAsSystem(() => this.cache.namespace('catalog').set('explicit', 1));
    this.startup.push('explicit: written');
  }

  @Warmup({ namespace: 'catalog' })
  async warm(): Promise<{ key: string; value: unknown }[]> {
    return [{ key: 'warm', value: 'from warm-up' }];
  }
}

@Controller()
class AppController {
  constructor(private readonly cache: CacheService) {}

  @Post('library/:key/:value')
  async write(@Param('key') key: string, @Param('value') value: string) {
    await this.cache.namespace('library').set(key, value);
    return { ok: true };
  }

  @Get('library/:key')
  async read(@Param('key') key: string) {
    return { value: (await this.cache.namespace('library').get(key)) ?? null };
  }

  @Post('catalog/clear')
  async clear() {
    return { removed: await this.cache.invalidateNamespace('catalog') };
  }
}

class ListSink implements AuditSink {
  readonly records: AuditRecord[] = [];
  write(record: AuditRecord): void {
    this.records.push(record);
  }
}

type Adapter = 'express' | 'fastify';

describe.each(['express', 'fastify'] as Adapter[])('the system principal is explicit (%s)', (adapter) => {
  let app: INestApplication;
  let cache: CacheService;
  let access: CacheAccessControl;
  let jobs: Jobs;
  const sink = new ListSink();

  beforeAll(async () => {
    @Module({
      imports: [
        CacheModule.forRoot({
          isGlobal: true,
          namespaces: { library: { scope: 'user' }, catalog: {} },
          rbac: {
            enabled: true,
            anonymousRoles: ['guest'],
            roles: { guest: { catalog: ['read'] }, member: { library: ['read', 'write'], catalog: ['read'] }, ops: { '*': ['admin'] } },
          },
          audit: { sink, keyHashSecret: 'principal-system-secret-0123' },
        }),
        CacheAdminModule.register({ roles: ['ops'] }),
      ],
      controllers: [AppController],
      providers: [Jobs],
    })
    class AppModule {}
    app = adapter === 'express'
      ? await NestFactory.create(AppModule, { logger: false })
      : await NestFactory.create<NestFastifyApplication>(AppModule, new FastifyAdapter(), { logger: false });
    app.useGlobalGuards(new HeaderAuthGuard()); // every route authenticates, the admin API's too
    await app.init();
    if (adapter === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
    cache = app.get(CacheService);
    access = app.get(CacheAccessControl);
    jobs = app.get(Jobs);
  });
  afterAll(() => app.close());
  beforeEach(() => (sink.records.length = 0));

  async function send(method: 'GET' | 'POST', path: string, user?: string, roles?: string): Promise<{ status: number; body: any }> {
    const headers: Record<string, string> = { ...(user ? { 'x-user': user } : {}), ...(roles ? { 'x-roles': roles } : {}) };
    if (adapter === 'fastify') {
      const res = await (app as NestFastifyApplication).inject({ method, url: path, headers });
      return { status: res.statusCode, body: res.json() };
    }
    const req = method === 'GET' ? request(app.getHttpServer()).get(path) : request(app.getHttpServer()).post(path);
    const res = await req.set(headers);
    return { status: res.status, body: res.body };
  }

  it('runs a queue consumer (no request, no runAs) as anonymous: an attacker\'s "clear" message is refused', async () => {
    await access.runAsSystem(() => cache.namespace('catalog').set('album:1', 'kept'));
    const outcome = await jobs.queue.deliver({ op: 'clear', namespace: 'catalog' });
    expect(outcome).toBeInstanceOf(CacheAccessDeniedError);
    expect((outcome as Error).message).toContain('no principal: the call was made outside any request, runAs or runAsSystem');
    expect(await access.runAsSystem(() => cache.namespace('catalog').get('album:1'))).toBe('kept');
    expect(sink.records).toEqual([expect.objectContaining({ actor: 'anonymous', actorKind: 'anonymous', action: 'clear', outcome: 'denied' })]);
  });

  it('refuses a start-up hook that does not say it runs as the system; runAsSystem and @Warmup write', async () => {
    expect(jobs.startup).toEqual(['implicit: CacheAccessDeniedError', 'explicit: written']);
    expect(await access.runAsSystem(() => cache.namespace('catalog').mget(['implicit', 'explicit', 'warm']))).toEqual([undefined, 1, 'from warm-up']);
  });

  it('gives a user whose id is "system" no system rights, and audits it as a user', async () => {
    expect((await send('POST', '/catalog/clear', 'system')).status).toBe(403);
    expect((await send('POST', '/catalog/clear')).status).toBe(403);
    expect(sink.records.map((r) => [r.actor, r.actorKind, r.action, r.outcome])).toEqual([
      ['system', 'user', 'clear', 'denied'],
      ['anonymous', 'anonymous', 'clear', 'denied'],
    ]);
    sink.records.length = 0;
    await access.runAsSystem(() => cache.namespace('catalog').clear());
    expect(sink.records.map((r) => [r.actor, r.actorKind, r.action, r.outcome])).toEqual([['system', 'system', 'clear', 'success']]);
  });

  it('tells a user named "anonymous" from the anonymous principal', async () => {
    expect((await send('POST', '/library/note/mine', 'anonymous')).status).toBe(201);
    expect((await send('GET', '/library/note', 'anonymous')).body).toEqual({ value: 'mine' });
    expect((await send('GET', '/library/note')).status).toBe(403);
    expect(sink.records.map((r) => [r.actor, r.actorKind, r.action, r.outcome])).toEqual([['anonymous', 'anonymous', 'get', 'denied']]);
  });

  it('keeps a user whose id is "system" and system jobs out of each other\'s entries in a namespace scoped per user', async () => {
    // A user registers as "system" and plants a value a system job would read as its own.
    expect((await send('POST', '/library/feature-flags/planted', 'system')).status).toBe(201);
    const read = access.runAsSystem(() => cache.namespace('library').get('feature-flags'));
    await expect(read).rejects.toBeInstanceOf(CacheAccessDeniedError);
    await expect(read).rejects.toThrow('the system principal owns no entries in it');
    await expect(access.runAsSystem(() => cache.namespace('library').set('feature-flags', 'from a job'))).rejects.toThrow(CacheAccessDeniedError);
    expect((await send('GET', '/library/feature-flags', 'system')).body).toEqual({ value: 'planted' });
    // A namespace-wide clear needs no owner: the system principal may still run it.
    expect(await access.runAsSystem(() => cache.namespace('library').clear())).toBeGreaterThanOrEqual(1);
    expect((await send('GET', '/library/feature-flags', 'system')).body).toEqual({ value: null });
  });

  it('runs an admin-triggered warm-up as the system principal, audited with the admin as actor', async () => {
    const res = await send('POST', '/cache/admin/warmup', 'olga', 'ops');
    expect(res.status).toBe(200);
    expect(res.body.reports).toEqual([expect.objectContaining({ name: 'Jobs.warm', ok: true, entries: 1 })]);
    expect(sink.records).toEqual([expect.objectContaining({ actor: 'olga', actorKind: 'user', action: 'warmup', outcome: 'success' })]);
  });
});
