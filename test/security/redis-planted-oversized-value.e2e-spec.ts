/**
 * Threat: someone who can write to the app's Redis plants a huge value (60 MB) under a namespace key.
 * Every read of that key would pull it from Redis into the process (and, on a tiered namespace, into
 * L1), hand it to the app, and cost the process a multiple of its size in memory: a cheap way to
 * exhaust memory and bandwidth, or to push arbitrary content past `maxValueBytes`.
 *
 * Defended: reads are bounded by the namespace's limit on stored payloads (`maxValueBytes`, plus the
 * encryption and tier overhead). The Redis backend never sends such a value whole: the gets of one
 * tick and `mget` delete it unread first (STRLEN in a Lua script), a get alone in its tick reads at
 * most one byte past the limit (GETRANGE). The namespace reads it as a miss, drops it only while it
 * is still oversized, counts it (`unreadableDropped`) and logs it without the key, and checks the
 * size again for any backend. The app's job: keep untrusted clients off its Redis
 * (ACLs on the key prefix); with `proto-max-bulk-len`, Redis itself refuses values that large.
 */
import { Controller, Get, INestApplication, LoggerService, NotFoundException, Param, Query } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import { CacheModule, CacheService } from 'nest-cachekit';
import request from 'supertest';
import { useRedisServer } from '../support/redis-server';

const MB = 1024 * 1024;
const PLANTED_BYTES = 60 * MB;
const SOURCE = 'planted:source';

/** Keeps every line the app logs. */
class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  log(message: unknown): void { this.lines.push(String(message)); }
  error(message: unknown): void { this.lines.push(String(message)); }
  warn(message: unknown): void { this.lines.push(String(message)); }
  debug(): void { /* not needed */ }
  verbose(): void { /* not needed */ }
}

/** How much of a value the handler got: the response stays small whatever was read. */
const describeValue = (value: unknown): object => ({ chars: typeof value === 'string' ? value.length : JSON.stringify(value ?? null).length });

let loads = 0;

@Controller('tracks')
class TrackController {
  constructor(private readonly cache: CacheService) {}

  @Get()
  async many(@Query('ids') ids: string, @Query('ns') ns: string): Promise<object> {
    const values = await this.cache.namespace(ns).mget(ids.split(','));
    return values.map((v) => (v === undefined ? null : describeValue(v)));
  }

  @Get(':id')
  async one(@Param('id') id: string, @Query('ns') ns: string): Promise<object> {
    const value = await this.cache.namespace(ns).get(id);
    if (value === undefined) throw new NotFoundException();
    return describeValue(value);
  }

  @Get(':id/or-load')
  async orLoad(@Param('id') id: string, @Query('ns') ns: string): Promise<object> {
    return describeValue(await this.cache.namespace(ns).getOrSet(id, () => {
      loads++;
      return { title: 'loaded' };
    }));
  }
}

describe('a 60 MB value planted under a namespace key is never read, returned or kept', () => {
  let app: INestApplication;
  const logger = new CapturingLogger();
  const redis = useRedisServer({ beforeStop: () => app?.close() });
  let cache: CacheService;

  beforeAll(async () => {
    // One write of the planted value, as a payload the serializer would accept (a JSON string); each
    // test copies it server-side under the key it attacks.
    await redis.admin.set(SOURCE, `"${'x'.repeat(PLANTED_BYTES - 2)}"`);
    const moduleRef = await Test.createTestingModule({
      imports: [CacheModule.forRoot({
        redis: { url: redis.server.url },
        bus: { secret: randomBytes(32).toString('base64') },
        namespaces: {
          tracks: { backend: 'redis' },
          tiered: { backend: 'redis', l1: { maxEntries: 100 } },
          sealed: { backend: 'redis', encryption: { keys: [{ id: 'k1', key: randomBytes(32).toString('base64') }] } },
        },
      })],
      controllers: [TrackController],
    }).compile();
    app = moduleRef.createNestApplication({ logger });
    await app.init();
    cache = app.get(CacheService);
  }, 60_000);

  /** Bytes Redis has sent to all its clients so far. */
  const sentByRedis = async (): Promise<number> => Number(/^total_net_output_bytes:(\d+)/m.exec(await redis.admin.info('stats'))![1]);

  const plant = async (ns: string, key: string): Promise<void> => {
    expect(await redis.admin.copy(SOURCE, `cache:{${ns}}:${key}`, 'REPLACE')).toBe(1);
  };

  /** Runs `read` against a freshly planted key and checks what it cost and left behind. */
  const attack = async (ns: string, key: string, read: () => Promise<request.Response>): Promise<request.Response> => {
    await plant(ns, key);
    const dropped = cache.namespace(ns).stats().unreadableDropped;
    const before = await sentByRedis();
    const res = await read();
    // Everything Redis sent during the request: at most the namespace's limit (1 MiB; 1.4 MB sealed), not 60 MB.
    expect(await sentByRedis() - before).toBeLessThan(1.5 * MB);
    expect(cache.namespace(ns).stats().unreadableDropped).toBe(dropped + 1);
    // Dropped (it was still the oversized value), whatever the read left there afterwards is the app's own.
    expect(await redis.admin.strlen(`cache:{${ns}}:${key}`)).toBeLessThan(MB);
    return res;
  };

  it.each(['tracks', 'tiered', 'sealed'])('get answers a miss (%s)', async (ns) => {
    await attack(ns, 'big-get', () => request(app.getHttpServer()).get(`/tracks/big-get?ns=${ns}`).expect(404));
    expect(await redis.admin.exists(`cache:{${ns}}:big-get`)).toBe(0);
  });

  it.each(['tracks', 'tiered', 'sealed'])('mget answers a miss for it and the other values as they are (%s)', async (ns) => {
    await cache.namespace(ns).set('small', { title: 'fine' });
    const res = await attack(ns, 'big-mget', () => request(app.getHttpServer()).get(`/tracks?ids=small,big-mget,none&ns=${ns}`).expect(200));
    expect(res.body).toEqual([{ chars: JSON.stringify({ title: 'fine' }).length }, null, null]);
  });

  it.each(['tracks', 'tiered', 'sealed'])('getOrSet runs the loader and stores its value in place of it (%s)', async (ns) => {
    const before = loads;
    const res = await attack(ns, 'big-load', () => request(app.getHttpServer()).get(`/tracks/big-load/or-load?ns=${ns}`).expect(200));
    expect(res.body).toEqual({ chars: JSON.stringify({ title: 'loaded' }).length });
    expect(loads).toBe(before + 1);
    expect(await cache.namespace(ns).get('big-load')).toEqual({ title: 'loaded' });
  });

  it('logs the drop with its reason, without the key', async () => {
    logger.lines.length = 0;
    await attack('tracks', 'secret-user-42', () => request(app.getHttpServer()).get('/tracks/secret-user-42?ns=tracks').expect(404));
    const drops = logger.lines.filter((l) => l.startsWith('cache.unreadable_dropped'));
    expect(drops).toEqual(['cache.unreadable_dropped namespace=tracks backend=redis serializer=tagged-json reason=oversized']);
    expect(logger.lines.some((l) => l.includes('secret-user-42'))).toBe(false);
  });
});
