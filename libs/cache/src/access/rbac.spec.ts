import {
  CanActivate, Controller, Delete, ExecutionContext, ForbiddenException, Get, INestApplication, Injectable, Param, Post, UseGuards,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { AuditRecord } from '../audit/audit-record';
import { AuditSink } from '../audit/audit-sink';
import { CacheModule } from '../cache.module';
import { CacheService } from '../cache.service';
import { CacheEvict } from '../decorators/cache-evict.decorator';
import { CachePut } from '../decorators/cache-put.decorator';
import { Cacheable } from '../decorators/cacheable.decorator';
import { InvalidOptionsError } from '../errors/invalid-options.error';
import { CacheModuleOptions } from '../options/cache-module-options.interface';
import { Warmup } from '../warmup/warmup.decorator';
import { CacheAccessControl } from './cache-access-control';
import { CacheAccessDeniedError } from './cache-access-denied.error';
import { CacheRoles } from './cache-roles.decorator';
import { CacheRolesGuard } from './cache-roles.guard';
import { DefaultPrincipalResolver, PrincipalResolver } from './principal-resolver';
import { InvalidArgumentError } from '../errors/invalid-argument.error';

class ListSink implements AuditSink {
  readonly records: AuditRecord[] = [];
  write(record: AuditRecord): void {
    this.records.push(record);
  }
}

const RBAC: CacheModuleOptions = {
  namespaces: { tracks: {}, drafts: {} },
  rbac: {
    enabled: true,
    anonymousRoles: ['guest'],
    roles: {
      guest: { tracks: ['read'] },
      writer: { tracks: ['read', 'write'], drafts: ['read', 'write', 'invalidate'] },
      ops: { '*': ['admin'] },
    },
  },
  audit: { keyHashSecret: 'unit-test-secret-0123' },
};

/** Sets request.user the way Passport's guard does: after middleware, before the handler. */
@Injectable()
class HeaderAuthGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest();
    const id = req.headers['x-user'];
    if (typeof id === 'string') req.user = { id, roles: String(req.headers['x-roles'] ?? '').split(',').filter(Boolean) };
    return true;
  }
}

@Injectable()
class TracksRepository {
  loads = 0;

  @Cacheable({ namespace: 'tracks', key: 'track:{id}' })
  async find(id: string): Promise<{ id: string }> {
    this.loads++;
    return { id };
  }

  saved: string[] = [];

  @CachePut({ namespace: 'tracks', key: 'track:{id}' })
  async save(id: string): Promise<{ id: string }> {
    this.saved.push(id);
    return { id };
  }

  @CacheEvict({ namespace: 'drafts', allEntries: true })
  async purge(): Promise<void> {
    this.saved.push('purged');
  }

  @Warmup({ namespace: 'tracks' })
  async warm(): Promise<{ key: string; value: unknown }[]> {
    return [{ key: 'track:warm', value: { id: 'warm' } }];
  }
}

/** A cache call made by a guard that runs before authentication: it must be checked as anonymous, never as system. */
@Injectable()
class EarlyCacheGuard implements CanActivate {
  constructor(private readonly cache: CacheService) {}
  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest();
    if (req.headers['x-early'] === 'clear') await this.cache.invalidateNamespace('drafts');
    return true;
  }
}

@Controller()
@UseGuards(EarlyCacheGuard, HeaderAuthGuard, CacheRolesGuard)
class TracksController {
  constructor(
    private readonly repo: TracksRepository,
    private readonly cache: CacheService,
  ) {}

  @Get('tracks/:id')
  find(@Param('id') id: string) {
    return this.repo.find(id);
  }

  @Post('drafts/:id')
  async draft(@Param('id') id: string) {
    await this.cache.namespace('drafts').set(`draft:${id}`, { id });
    return { ok: true };
  }

  @Delete('drafts/:id')
  async drop(@Param('id') id: string) {
    return { removed: await this.cache.namespace('drafts').invalidate(`draft:${id}`) };
  }

  @Get('ops')
  @CacheRoles('ops')
  ops() {
    return { ok: true };
  }
}

@Controller('guarded')
@UseGuards(HeaderAuthGuard, CacheRolesGuard)
@CacheRoles('ops')
class GuardedController {
  @Get('class-level')
  classLevel() {
    return { ok: true };
  }

  @Get('writers')
  @CacheRoles('writer')
  writers() {
    return { ok: true };
  }

  @Get('nobody')
  @CacheRoles()
  nobody() {
    return { ok: true };
  }
}

async function start(options: CacheModuleOptions, sink = new ListSink()): Promise<{ app: INestApplication; sink: ListSink }> {
  const moduleRef = await Test.createTestingModule({
    imports: [CacheModule.forRoot({ ...options, isGlobal: true })],
    controllers: [TracksController, GuardedController],
    providers: [TracksRepository, HeaderAuthGuard, EarlyCacheGuard],
  }).overrideProvider(AuditSink).useValue(sink).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return { app, sink };
}

describe('RBAC on cache operations', () => {
  let app: INestApplication;
  let sink: ListSink;
  let cache: CacheService;
  let access: CacheAccessControl;

  beforeEach(async () => {
    ({ app, sink } = await start(RBAC));
    cache = app.get(CacheService);
    access = app.get(CacheAccessControl);
  });
  afterEach(() => app.close());

  it('checks direct calls as the runAs principal: a read-only role reads, but may not write or invalidate', async () => {
    const guest = { id: 'g1', roles: ['guest'] };
    await access.runAsSystem(() => cache.namespace('tracks').set('t', 1));
    expect(await access.runAs(guest, () => cache.namespace('tracks').get('t'))).toBe(1);
    const write = access.runAs(guest, () => cache.namespace('tracks').set('t', 2));
    await expect(write).rejects.toBeInstanceOf(CacheAccessDeniedError);
    await expect(write).rejects.toBeInstanceOf(ForbiddenException);
    await expect(write).rejects.toMatchObject({ code: 'CACHE_ACCESS_DENIED', namespace: 'tracks', operation: 'set', principal: 'g1' });
    await expect(access.runAs(guest, () => cache.namespace('tracks').invalidate('t'))).rejects.toThrow(
      'Principal "g1" may not invalidate in cache namespace "tracks": needs "invalidate".',
    );
    await expect(access.runAs(guest, () => cache.namespace('drafts').get('t'))).rejects.toThrow(CacheAccessDeniedError);
    expect(await cache.namespace('tracks').get('t')).toBe(1);
  });

  it('requires read and write for getOrSet, admin for clear; admin implies everything; "*" covers every namespace', async () => {
    const writer = { id: 'w', roles: ['writer'] };
    const ops = { id: 'o', roles: ['ops'] };
    expect(await access.runAs(writer, () => cache.namespace('tracks').getOrSet('k', () => 'v'))).toBe('v');
    await expect(access.runAs({ id: 'g', roles: ['guest'] }, () => cache.namespace('tracks').getOrSet('k2', () => 'v'))).rejects.toThrow('needs "read" and "write"');
    await expect(access.runAs(writer, () => cache.namespace('drafts').clear())).rejects.toThrow('needs "admin"');
    await expect(access.runAs(writer, () => cache.namespace('tracks').invalidateTag('x'))).rejects.toThrow('needs "invalidate"');
    for (const ns of ['tracks', 'drafts', 'default']) {
      await access.runAs(ops, async () => {
        await cache.namespace(ns).set('a', 1);
        await cache.namespace(ns).mset([{ key: 'b', value: 2 }]);
        expect(await cache.namespace(ns).mget(['a', 'b'])).toEqual([1, 2]);
        expect(await cache.namespace(ns).clear()).toBeGreaterThanOrEqual(2);
        expect(await cache.namespace(ns).mget(['a', 'b'])).toEqual([undefined, undefined]);
      });
    }
  });

  it('checks HTTP requests as the principal an auth guard sets after the request started (lazy resolution)', async () => {
    const server = app.getHttpServer();
    await request(server).post('/drafts/1').expect(403); // anonymous guest: no write on drafts
    await request(server).post('/drafts/1').set('x-user', 'ann').set('x-roles', 'writer').expect(201);
    expect(await access.runAsSystem(() => cache.namespace('drafts').get('draft:1'))).toEqual({ id: '1' });
    const denial = sink.records.find((r) => r.outcome === 'denied')!;
    expect(denial).toMatchObject({ actor: 'anonymous', action: 'set', namespace: 'drafts', keyHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it('checks decorated methods called in a request (a @Cacheable miss needs read and write)', async () => {
    const server = app.getHttpServer();
    const repo = app.get(TracksRepository);
    await request(server).get('/tracks/9').expect(403); // guest: read only
    expect(repo.loads).toBe(0);
    await request(server).get('/tracks/9').set('x-user', 'ann').set('x-roles', 'writer').expect(200);
    expect(repo.loads).toBe(1);
  });

  it('refuses a decorated call before the method runs when its @CachePut or @CacheEvict would be refused', async () => {
    const repo = app.get(TracksRepository);
    const guest = { id: 'g', roles: ['guest'] };
    await expect(access.runAs(guest, () => repo.save('5'))).rejects.toThrow('may not set in cache namespace "tracks"');
    await expect(access.runAs({ id: 'w', roles: ['writer'] }, () => repo.purge())).rejects.toThrow('may not clear in cache namespace "drafts"');
    expect(repo.saved).toEqual([]);
    await access.runAs({ id: 'w', roles: ['writer'] }, () => repo.save('5'));
    await access.runAs({ id: 'o', roles: ['ops'] }, () => repo.purge());
    expect(repo.saved).toEqual(['5', 'purged']);
    expect(await cache.namespace('tracks').get('track:5')).toEqual({ id: '5' });
  });

  it('answers an unauthorised mget/mset with the 403 before looking at its arguments', async () => {
    const guest = { id: 'g', roles: ['guest'] };
    const drafts = cache.namespace('drafts');
    const calls: (() => Promise<unknown>)[] = [() => drafts.mget('draft:1' as never), () => drafts.mset({} as never), () => drafts.mset([null] as never)];
    for (const call of calls) {
      await expect(access.runAs(guest, call)).rejects.toBeInstanceOf(CacheAccessDeniedError);
    }
    await expect(access.runAs({ id: 'w', roles: ['writer'] }, () => drafts.mget('draft:1' as never))).rejects.toThrow(InvalidArgumentError);
  });

  it('never runs a cache call made during a request as the system principal, even before authentication', async () => {
    await access.runAsSystem(() => cache.namespace('drafts').set('draft:keep', 1));
    await request(app.getHttpServer()).post('/drafts/2').set('x-early', 'clear').set('x-user', 'root').set('x-roles', 'ops').expect(403);
    expect(await access.runAsSystem(() => cache.namespace('drafts').get('draft:keep'))).toBe(1);
    expect(sink.records.at(-1)).toMatchObject({ actor: 'anonymous', actorKind: 'anonymous', action: 'clear', namespace: 'drafts', outcome: 'denied' });
  });

  it('runs warm-ups as the system principal', async () => {
    expect(await cache.namespace('tracks').get('track:warm')).toEqual({ id: 'warm' }); // a guest may read "tracks"
    expect(sink.records.find((r) => r.action === 'warmup')).toMatchObject({ actor: 'system', actorKind: 'system', namespace: 'tracks', outcome: 'success' });
  });

  it('checks a call outside any request or runAs as the anonymous principal, saying why it was refused', async () => {
    expect(await cache.namespace('tracks').get('track:warm')).toEqual({ id: 'warm' }); // anonymousRoles: guest reads tracks
    const write = cache.namespace('tracks').set('t', 1);
    await expect(write).rejects.toBeInstanceOf(CacheAccessDeniedError);
    await expect(write).rejects.toThrow(
      'Principal "anonymous" may not set in cache namespace "tracks": needs "write" (no principal: the call was made outside any request, runAs or runAsSystem).',
    );
    expect(sink.records.at(-1)).toMatchObject({ actor: 'anonymous', actorKind: 'anonymous', action: 'set', outcome: 'denied' });
    await cache.runAsSystem(() => cache.namespace('tracks').set('t', 1));
    expect(await cache.runAs({ id: 'w', roles: ['writer'] }, () => cache.namespace('tracks').get('t'))).toBe(1);
  });

  it('tells the system and anonymous principals from users who bear their ids, in rights and in audit records', async () => {
    const impostor = { id: 'system', roles: [] };
    await expect(access.runAs(impostor, () => cache.namespace('drafts').clear())).rejects.toThrow('Principal "system" may not clear');
    await access.runAsSystem(() => cache.namespace('drafts').clear());
    await expect(access.runAs({ id: 'anonymous', roles: ['guest'] }, () => cache.namespace('drafts').invalidate('x'))).rejects.toThrow('needs "invalidate"');
    expect(sink.records.slice(-3).map((r) => [r.actor, r.actorKind, r.action, r.outcome])).toEqual([
      ['system', 'user', 'clear', 'denied'],
      ['system', 'system', 'clear', 'success'],
      ['anonymous', 'user', 'invalidate', 'denied'],
    ]);
    expect([access.isSystem(impostor), access.isSystem(access.systemPrincipal), access.isAnonymous({ id: 'anonymous', roles: [] })]).toEqual([false, true, false]);
    expect(access.runAsSystem(() => access.actor())).toEqual({ actor: 'system', actorKind: 'system' });
    expect(access.actor()).toEqual({ actor: 'anonymous', actorKind: 'anonymous' });
    expect(access.runInRequest({}, () => access.actor())).toEqual({ actor: 'anonymous', actorKind: 'anonymous' });
  });
});

describe('@CacheRoles and CacheRolesGuard', () => {
  let app: INestApplication;
  let sink: ListSink;
  beforeAll(async () => ({ app, sink } = await start(RBAC)));
  afterAll(() => app.close());

  it.each([
    ['/ops', undefined, 403], ['/ops', 'guest', 403], ['/ops', 'ops', 200], ['/ops', 'writer,ops', 200],
    ['/guarded/class-level', 'writer', 403], ['/guarded/class-level', 'ops', 200],
    // The handler's roles override the controller's.
    ['/guarded/writers', 'ops', 403], ['/guarded/writers', 'writer', 200],
    ['/guarded/nobody', 'ops', 403],
  ] as const)('GET %s with roles %s answers %d', async (path, roles, status) => {
    const req = request(app.getHttpServer()).get(path);
    if (roles !== undefined) req.set('x-user', 'u').set('x-roles', roles);
    await req.expect(status);
  });

  it('audits a refused route and names the roles it needs', async () => {
    sink.records.length = 0;
    const res = await request(app.getHttpServer()).get('/guarded/writers').set('x-user', 'eve').set('x-roles', 'guest').expect(403);
    expect(res.body.message).toBe('Principal "eve" may not use GET /guarded/writers: needs one of the roles "writer".');
    expect(sink.records).toEqual([{
      time: expect.any(String), actor: 'eve', actorKind: 'user', action: 'route', namespace: '*', outcome: 'denied',
      detail: { missing: 'needs one of the roles "writer"', route: 'GET /guarded/writers' },
    }]);
  });
});

describe('RBAC options', () => {
  it('is off by default: nothing is checked and nothing is audited', async () => {
    const { app, sink } = await start({ namespaces: { tracks: {}, drafts: {} } });
    const cache = app.get(CacheService);
    await app.get(CacheAccessControl).runAs({ id: 'nobody', roles: [] }, async () => {
      await cache.namespace('drafts').set('a', 1);
      await cache.namespace('drafts').invalidate('a');
      await cache.namespace('drafts').clear();
    });
    await request(app.getHttpServer()).post('/drafts/1').expect(201);
    expect(sink.records).toEqual([]);
    await app.close();
  });

  it('restricts the system principal to the roles it is given', async () => {
    const { app, sink } = await start({ ...RBAC, rbac: { ...RBAC.rbac, system: { id: 'batch', roles: ['guest'] } } });
    const cache = app.get(CacheService);
    await expect(cache.runAsSystem(() => cache.namespace('drafts').set('a', 1))).rejects.toThrow('Principal "batch" may not set in cache namespace "drafts"');
    expect(sink.records.filter((r) => r.outcome === 'denied').map((r) => [r.actor, r.action, r.namespace])).toEqual([
      ['batch', 'mset', 'tracks'], // the bootstrap warm-up
      ['batch', 'set', 'drafts'],
    ]);
    // Its warm-up could not write either: reported as a failure, not a crash.
    expect(sink.records.find((r) => r.action === 'warmup')).toMatchObject({ actor: 'batch', outcome: 'failure' });
    await app.close();
  });

  it('runs calls outside any scope as the system principal only when rbac.unscopedPrincipal says so', async () => {
    const { app, sink } = await start({ ...RBAC, rbac: { ...RBAC.rbac, unscopedPrincipal: 'system' } });
    const cache = app.get(CacheService);
    await cache.namespace('drafts').set('a', 1);
    expect(await cache.namespace('drafts').clear()).toBe(1);
    expect(sink.records.at(-1)).toMatchObject({ actor: 'system', actorKind: 'system', action: 'clear', outcome: 'success' });
    // A request is still its own principal.
    await request(app.getHttpServer()).post('/drafts/1').expect(403);
    await app.close();
  });

  it('opens request scopes when only auditing is on, so that records name the user', async () => {
    const { app, sink } = await start({ namespaces: { tracks: {}, drafts: {} }, audit: { keyHashSecret: 'unit-test-secret-0123' } });
    sink.records.length = 0; // the bootstrap warm-up's
    // A clear in a guard before authentication, then an invalidation by the handler after it.
    await request(app.getHttpServer()).delete('/drafts/9').set('x-early', 'clear').set('x-user', 'ann').expect(200);
    expect(sink.records.map((r) => [r.actor, r.actorKind, r.action])).toEqual([['anonymous', 'anonymous', 'clear'], ['ann', 'user', 'invalidate']]);
    await app.close();
  });

  it('takes a custom PrincipalResolver from the options', async () => {
    const resolver: PrincipalResolver = { resolve: (req) => (req.headers['x-key'] === 'k1' ? { id: 'svc', roles: ['ops'] } : undefined) };
    const { app } = await start({ ...RBAC, rbac: { ...RBAC.rbac, principalResolver: resolver } });
    await request(app.getHttpServer()).get('/ops').expect(403);
    await request(app.getHttpServer()).get('/ops').set('x-key', 'k1').expect(200);
    await app.close();
  });

  it('fails the start on a bad role map, naming each field', async () => {
    const start = Test.createTestingModule({
      imports: [CacheModule.forRoot({
        namespaces: { tracks: {} },
        rbac: {
          enabled: 'yes' as never,
          roles: { editor: { tracks: ['read', 'delete' as never], trcks: ['read'] }, bad: 'x' as never },
          system: { id: '' },
          unscopedPrincipal: 'root' as never,
        },
        audit: { keyHashSecret: 'short', sink: {} as never },
      })],
    }).compile();
    await expect(start).rejects.toThrow(InvalidOptionsError);
    await expect(start).rejects.toThrow(/rbac\.enabled: must be a boolean value/);
    await expect(start).rejects.toThrow(/rbac\.roles\.editor\.tracks\[1\]: must be one of "read", "write", "invalidate", "admin" \(got "delete"\)/);
    await expect(start).rejects.toThrow(/rbac\.roles\.editor\.trcks: unknown namespace "trcks"/);
    await expect(start).rejects.toThrow(/rbac\.roles\.bad: must be an object/);
    await expect(start).rejects.toThrow(/rbac\.system\.id: should not be empty/);
    await expect(start).rejects.toThrow(/rbac\.unscopedPrincipal: must be "anonymous" or "system"/);
    await expect(start).rejects.toThrow(/audit\.keyHashSecret: must be at least 16 characters/);
    await expect(start).rejects.toThrow(/audit\.sink: must be an object with write\(record\)/);
  });

  it('fails the start on bad scope, keyCharset and valueSchema settings, naming each field', async () => {
    const start = Test.createTestingModule({
      imports: [CacheModule.forRoot({
        namespaces: { a: { scope: 'group' as never }, b: { keyCharset: 'latin1' as never }, c: { valueSchema: { dto: 'Album' as never } } },
        rbac: { principalResolver: {} as never },
      })],
    }).compile();
    await expect(start).rejects.toThrow(/namespaces\.a\.scope: must be one of the following values: none, user, tenant/);
    await expect(start).rejects.toThrow(/namespaces\.b\.keyCharset: must be one of the following values: unicode, ascii/);
    await expect(start).rejects.toThrow(/namespaces\.c\.valueSchema: must be \{ dto: a class-validator DTO class/);
    await expect(start).rejects.toThrow(/rbac\.principalResolver: must be an object with resolve\(request\)/);
  });
});

describe('audit of failed invalidations', () => {
  it('records an invalidation or clear the backend failed, without the key, and the caller still gets the error', async () => {
    const down = async (): Promise<never> => { throw new Error('connection reset'); };
    const factory = { create: () => ({ name: 'down', storesLiveValues: false, get: down, set: down, delete: down, has: down, mget: down, mset: down, clear: down, invalidateTag: down }) };
    const sink = new ListSink();
    const moduleRef = await Test.createTestingModule({
      imports: [CacheModule.forRoot({ backends: { down: factory }, namespaces: { remote: { backend: 'down' } }, audit: { sink, keyHashSecret: 'unit-test-secret-0123' } })],
    }).compile();
    await moduleRef.init();
    const remote = moduleRef.get(CacheService).namespace('remote');
    const ann = { id: 'ann', roles: [] };
    const access = moduleRef.get(CacheAccessControl);
    await expect(access.runAs(ann, () => remote.invalidate('user:1'))).rejects.toThrow('failed during invalidate');
    await expect(access.runAs(ann, () => remote.invalidateTag('t'))).rejects.toThrow('failed during invalidateTag');
    await expect(access.runAsSystem(() => remote.clear())).rejects.toThrow('failed during clear');
    await expect(remote.get('k')).rejects.toThrow('failed during get'); // reads are not audited
    expect(sink.records.map(({ actor, actorKind, action, namespace, outcome, detail }) => ({ actor, actorKind, action, namespace, outcome, detail }))).toEqual([
      { actor: 'ann', actorKind: 'user', action: 'invalidate', namespace: 'remote', outcome: 'failure', detail: { backend: 'down' } },
      { actor: 'ann', actorKind: 'user', action: 'invalidateTag', namespace: 'remote', outcome: 'failure', detail: { backend: 'down' } },
      { actor: 'system', actorKind: 'system', action: 'clear', namespace: 'remote', outcome: 'failure', detail: { backend: 'down' } },
    ]);
    await moduleRef.close();
  });
});

describe('DefaultPrincipalResolver', () => {
  const resolver = new DefaultPrincipalResolver();
  it.each([
    [{ user: { id: 7, roles: ['a', 3, 'b'] } }, { id: '7', roles: ['a', 'b'] }],
    [{ user: { sub: 'auth0|x', roles: 'admin', tenantId: 'acme' } }, { id: 'auth0|x', roles: ['admin'], tenant: 'acme' }],
    [{ user: { id: 'u', tenant: 42 } }, { id: 'u', roles: [], tenant: '42' }],
    [{ user: { id: '' } }, undefined],
    [{ user: { name: 'no id' } }, undefined],
    [{ user: 'token' }, undefined],
    [{}, undefined],
    [undefined, undefined],
    // Fastify: middleware sees the raw request, guards and handlers the Fastify request (whose user wins).
    [{ raw: { user: { id: 'set-by-middleware' } } }, { id: 'set-by-middleware', roles: [] }],
    [{ user: { id: 'set-by-guard' }, raw: { user: { id: 'set-by-middleware' } } }, { id: 'set-by-guard', roles: [] }],
  ])('resolves %j to %j', (req, principal) => {
    expect(resolver.resolve(req)).toEqual(principal);
  });
});
