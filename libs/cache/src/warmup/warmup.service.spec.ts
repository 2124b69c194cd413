import { Injectable, Logger } from '@nestjs/common';
import { AsyncLocalStorage } from 'node:async_hooks';
import { AuditRecord } from '../audit/audit-record';
import { Test } from '@nestjs/testing';
import { CacheModule } from '../cache.module';
import { CacheService } from '../cache.service';
import { UnknownNamespaceError } from '../errors/unknown-namespace.error';
import { Warmup } from './warmup.decorator';
import { WarmupFailedError, WarmupService } from './warmup.service';

const order: string[] = [];

@Injectable()
class CatalogWarmups {
  release!: () => void;

  @Warmup({ namespace: 'tracks', priority: 10 })
  async topTracks(): Promise<{ key: string; value: unknown; ttl?: string }[]> {
    order.push('topTracks');
    return [{ key: 'track:1', value: { title: 'Blue' }, ttl: '1h' }, { key: 'track:2', value: { title: 'Red' } }];
  }

  @Warmup({ namespace: 'tracks', priority: 1 })
  async failing(): Promise<never> {
    order.push('failing');
    throw new Error('catalogue unreachable');
  }

  @Warmup({ priority: 5 })
  async counted(): Promise<number> {
    order.push('counted');
    return 7;
  }

  @Warmup({ namespace: 'tracks', blocking: false, priority: 100 })
  async slowInBackground(): Promise<{ key: string; value: unknown }[]> {
    order.push('background started');
    await new Promise<void>((resolve) => (this.release = resolve));
    order.push('background done');
    return [{ key: 'track:3', value: { title: 'Late' } }];
  }
}

describe('@Warmup', () => {
  beforeEach(() => (order.length = 0));

  it('runs blocking warm-ups by priority before the app is up, logs failures without crashing, then the background ones', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [CacheModule.forRoot({ namespaces: { tracks: {} } })],
      providers: [CatalogWarmups],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    expect(order).toEqual(['topTracks', 'counted', 'failing', 'background started']);
    const cache = app.get(CacheService);
    expect(await cache.namespace('tracks').mget(['track:1', 'track:2', 'track:3'])).toEqual([{ title: 'Blue' }, { title: 'Red' }, undefined]);

    app.get(CatalogWarmups).release();
    const warmups = app.get(WarmupService);
    await warmups.settled();
    expect(await cache.namespace('tracks').get('track:3')).toEqual({ title: 'Late' });
    expect(warmups.results().map((r) => [r.name, r.ok, r.entries ?? null, r.error ?? null])).toEqual([
      ['CatalogWarmups.topTracks', true, 2, null],
      ['CatalogWarmups.counted', true, 7, null],
      ['CatalogWarmups.failing', false, null, 'Error'],
      ['CatalogWarmups.slowInBackground', true, 1, null],
    ]);
    await app.close();
  });

  it('fails the start on a failing warm-up with failOnError', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [CacheModule.forRoot({ namespaces: { tracks: {} }, warmup: { failOnError: true } })],
      providers: [CatalogWarmups],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    const start = app.init();
    await expect(start).rejects.toThrow(WarmupFailedError);
    await expect(start).rejects.toThrow('Cache warm-up CatalogWarmups.failing failed: Error');
    await expect(start).rejects.toMatchObject({ code: 'CACHE_WARMUP_FAILED', cause: { message: 'catalogue unreachable' } });
    await app.close();
  });

  it('does nothing at bootstrap with onBootstrap: false, but lists the tasks (for the CLI)', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [CacheModule.forRoot({ namespaces: { tracks: {} }, warmup: { onBootstrap: false } })],
      providers: [CatalogWarmups],
    }).compile();
    await moduleRef.init();
    expect(order).toEqual([]);
    const warmups = moduleRef.get(WarmupService);
    expect(warmups.tasks({ namespace: 'tracks' }).map((t) => t.name)).toEqual([
      'CatalogWarmups.slowInBackground', 'CatalogWarmups.topTracks', 'CatalogWarmups.failing',
    ]);
    await moduleRef.close();
  });

  it('fails the start when a warm-up names an unknown namespace', async () => {
    @Injectable()
    class Lost {
      @Warmup({ namespace: 'nowhere' })
      async load(): Promise<number> {
        return 0;
      }
    }
    const moduleRef = await Test.createTestingModule({ imports: [CacheModule.forRoot({})], providers: [Lost] }).compile();
    await expect(moduleRef.createNestApplication({ logger: false }).init()).rejects.toThrow(UnknownNamespaceError);
  });

  it('logs, reports and audits a failed warm-up by error class and code, never by its message', async () => {
    @Injectable()
    class Leaky {
      @Warmup()
      async load(): Promise<never> {
        throw Object.assign(new Error('GET https://api/users?token=s3cr3t failed'), { code: 'ECONNREFUSED' });
      }
    }
    const errors: string[] = [];
    const spy = jest.spyOn(Logger.prototype, 'error').mockImplementation((message: unknown) => void errors.push(String(message)));
    const records: AuditRecord[] = [];
    const moduleRef = await Test.createTestingModule({
      imports: [CacheModule.forRoot({ audit: { sink: { write: (r: AuditRecord) => void records.push(r) }, keyHashSecret: 'warmup-spec-secret-0123' } })],
      providers: [Leaky],
    }).compile();
    try {
      await moduleRef.createNestApplication({ logger: false }).init();
      expect(errors).toEqual([expect.stringMatching(/^Leaky\.load failed after \d+ ms: Error \(ECONNREFUSED\)$/)]);
      expect(moduleRef.get(WarmupService).results()[0]).toMatchObject({ ok: false, error: 'Error (ECONNREFUSED)' });
      expect(records).toEqual([expect.objectContaining({ action: 'warmup', outcome: 'failure', detail: { task: 'Leaky.load', error: 'Error (ECONNREFUSED)' } })]);
      expect(JSON.stringify([errors, records])).not.toContain('s3cr3t');
    } finally {
      spy.mockRestore();
      await moduleRef.close();
    }
  });

  it('runs bootstrap warm-ups, blocking and in the background, as the system principal, audited as such', async () => {
    const records: AuditRecord[] = [];
    const moduleRef = await Test.createTestingModule({
      imports: [CacheModule.forRoot({
        namespaces: { tracks: {} },
        rbac: { enabled: true }, // no role at all: only the system principal may write
        audit: { sink: { write: (r: AuditRecord) => void records.push(r) }, keyHashSecret: 'warmup-spec-secret-0123' },
      })],
      providers: [CatalogWarmups],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    app.get(CatalogWarmups).release();
    await app.get(WarmupService).settled();
    expect(records.map((r) => [r.detail?.task, r.actor, r.actorKind, r.outcome])).toEqual([
      ['CatalogWarmups.topTracks', 'system', 'system', 'success'],
      ['CatalogWarmups.counted', 'system', 'system', 'success'],
      ['CatalogWarmups.failing', 'system', 'system', 'failure'],
      ['CatalogWarmups.slowInBackground', 'system', 'system', 'success'],
    ]);
    const cache = app.get(CacheService);
    expect(await cache.runAsSystem(() => cache.namespace('tracks').mget(['track:1', 'track:3']))).toEqual([{ title: 'Blue' }, { title: 'Late' }]);
    await app.close();
  });

  it('opens no AsyncLocalStorage scope while nothing reads the principal (RBAC off, no scope, no audit)', async () => {
    // Once a process opens one, every promise it makes pays a hook: an app without checks must not.
    const run = jest.spyOn(AsyncLocalStorage.prototype, 'run');
    try {
      const moduleRef = await Test.createTestingModule({
        imports: [CacheModule.forRoot({ namespaces: { tracks: {} } })],
        providers: [CatalogWarmups],
      }).compile();
      const app = moduleRef.createNestApplication({ logger: false });
      await app.init();
      app.get(CatalogWarmups).release();
      await app.get(WarmupService).settled();
      expect(await app.get(CacheService).namespace('tracks').get('track:3')).toEqual({ title: 'Late' });
      expect(run).not.toHaveBeenCalled();
      await app.close();
    } finally {
      run.mockRestore();
    }
  });
});
