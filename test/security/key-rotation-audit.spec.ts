/**
 * Threat: an encryption key leaked and was rotated; the operator must be able to show which entries
 * were re-sealed under the new key, and when (the evidence that the old key no longer protects
 * them), from the audit trail, without the trail itself leaking keys or key material.
 * Every entry re-sealed by `reencryptOnRead` is recorded as `action: 'keyRotation'`, with the key
 * hashed and only key ids in the detail; against a real redis-server, on a Redis and a tiered
 * namespace, over HTTP.
 */
import { Controller, Get, INestApplication, NotFoundException, Param } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AuditRecord, AuditSink, CacheEventMap, CacheModule, CacheModuleOptions, CacheService } from 'nest-cachekit';
import { createHmac, randomBytes } from 'node:crypto';
import request from 'supertest';
import { useRedisServer } from '../support/redis-server';

const K1 = randomBytes(32).toString('base64');
const K2 = randomBytes(32).toString('base64');
const AUDIT_SECRET = 'key-rotation-audit-secret';
const BUS_SECRET = randomBytes(32).toString('base64');
const keyHash = (namespace: string, key: string): string => createHmac('sha256', AUDIT_SECRET).update(`${namespace}\u0000${key}`).digest('hex');

class CapturingSink implements AuditSink {
  readonly records: AuditRecord[] = [];
  write(record: AuditRecord): void {
    this.records.push(record);
  }
}

@Controller('invoices')
class InvoicesController {
  constructor(private readonly cache: CacheService) {}

  @Get(':namespace/:id')
  async get(@Param('namespace') namespace: string, @Param('id') id: string): Promise<unknown> {
    const invoice = await this.cache.namespace(namespace).get(`invoice:${id}`);
    if (invoice === undefined) throw new NotFoundException();
    return invoice;
  }
}

describe('key rotation is recorded in the audit trail', () => {
  const redis = useRedisServer({ flushBeforeEach: true });
  const logs: string[] = [];
  const logger = {
    log: (m: unknown) => logs.push(String(m)), error: (m: unknown) => logs.push(String(m)), warn: (m: unknown) => logs.push(String(m)),
    debug: (m: unknown) => logs.push(String(m)), verbose: (m: unknown) => logs.push(String(m)),
  };

  const options = (keys: { id: string; key: string }[], sink: AuditSink, provider = 'aes-256-gcm'): CacheModuleOptions => ({
    redis: { url: redis.server.url },
    bus: { secret: BUS_SECRET },
    audit: { sink, keyHashSecret: AUDIT_SECRET },
    namespaces: {
      invoices: { backend: 'redis', ttl: '1h', encryption: { provider, keys, reencryptOnRead: true } },
      tiered: { backend: 'redis', ttl: '1h', l1: {}, encryption: { provider, keys, reencryptOnRead: true } },
    },
  });

  async function start(keys: { id: string; key: string }[], sink: AuditSink, provider?: string): Promise<INestApplication> {
    const moduleRef = await Test.createTestingModule({ imports: [CacheModule.forRoot(options(keys, sink, provider))], controllers: [InvoicesController] })
      .setLogger(logger).compile();
    const app = moduleRef.createNestApplication({ logger });
    await app.init();
    return app;
  }

  beforeEach(() => {
    logs.length = 0;
  });

  it.each([
    ['aes-256-gcm', { from: 'k1', to: 'k2' }],
    ['fernet', { from: 'k1', to: 'k2' }],
  ])('records each entry re-sealed with the newest key (%s), once, hashed, with key ids only', async (provider, ids) => {
    const before = await start([{ id: 'k1', key: K1 }], new CapturingSink(), provider);
    for (const namespace of ['invoices', 'tiered']) {
      for (const id of ['inv-7', 'inv-8']) await before.get(CacheService).namespace(namespace).set(`invoice:${id}`, { id, total: 120 });
    }
    await before.close();

    const sink = new CapturingSink();
    const app = await start([{ id: 'k2', key: K2 }, { id: 'k1', key: K1 }], sink, provider);
    const events: CacheEventMap['keyRotated'][] = [];
    app.get(CacheService).events.on('keyRotated', (e) => events.push(e));
    try {
      for (const namespace of ['invoices', 'tiered']) {
        await request(app.getHttpServer()).get(`/invoices/${namespace}/inv-7`).expect(200, { id: 'inv-7', total: 120 });
        await request(app.getHttpServer()).get(`/invoices/${namespace}/inv-7`).expect(200); // already re-sealed: no second record
      }
      const rotations = sink.records.filter((r) => r.action === 'keyRotation');
      expect(rotations).toEqual([
        expect.objectContaining({ action: 'keyRotation', namespace: 'invoices', keyHash: keyHash('invoices', 'invoice:inv-7'), outcome: 'success', detail: { fromKeyId: ids.from, toKeyId: ids.to } }),
        expect.objectContaining({ action: 'keyRotation', namespace: 'tiered', keyHash: keyHash('tiered', 'invoice:inv-7'), outcome: 'success', detail: { fromKeyId: ids.from, toKeyId: ids.to } }),
      ]);
      expect(events).toEqual([
        { namespace: 'invoices', key: 'invoice:inv-7', fromKeyId: ids.from, toKeyId: ids.to },
        { namespace: 'tiered', key: 'invoice:inv-7', fromKeyId: ids.from, toKeyId: ids.to },
      ]);
      // Nothing identifying or secret in the records or the logs: no raw key, no key material.
      const written = JSON.stringify(sink.records) + logs.join('\n');
      for (const secret of ['inv-7', 'inv-8', K1, K2, Buffer.from(K1, 'base64').toString('hex'), Buffer.from(K2, 'base64').toString('base64url')]) {
        expect(written).not.toContain(secret);
      }
    } finally {
      await app.close();
    }
  });

  it('records nothing when the entry was not re-sealed: reencryptOnRead off, or the read entry already on the newest key', async () => {
    const first = await start([{ id: 'k1', key: K1 }], new CapturingSink());
    await first.get(CacheService).namespace('invoices').set('invoice:inv-9', { id: 'inv-9' });
    await first.close();

    const sink = new CapturingSink();
    const moduleRef = await Test.createTestingModule({
      imports: [CacheModule.forRoot({
        ...options([{ id: 'k2', key: K2 }, { id: 'k1', key: K1 }], sink),
        namespaces: { invoices: { backend: 'redis', encryption: { keys: [{ id: 'k2', key: K2 }, { id: 'k1', key: K1 }], reencryptOnRead: false } } },
      })],
      controllers: [InvoicesController],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    try {
      await request(app.getHttpServer()).get('/invoices/invoices/inv-9').expect(200);
      await app.get(CacheService).namespace('invoices').set('invoice:inv-10', { id: 'inv-10' });
      await request(app.getHttpServer()).get('/invoices/invoices/inv-10').expect(200);
      expect(sink.records.filter((r) => r.action === 'keyRotation')).toEqual([]);
    } finally {
      await app.close();
    }
  });
});
