/**
 * Threat: the Redis password leaks into logs (shipped to a log store many can read) through a
 * malformed `redis.url` or `REDIS_URL`: the Redis client fails to parse it with an error that holds
 * the whole URL, and the start-up failure prints it. The URL is checked as an option before any
 * client sees it: `InvalidOptionsError` naming `redis.url` (or `REDIS_URL`), and the password (or
 * any part of the URL) appears in no log line, error message, stack or property.
 */
import { Controller, Get, INestApplication, LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { CacheModule, CacheModuleOptions, CacheService, InvalidOptionsError, redisOptionsFromEnv } from 'nest-cachekit';
import { inspect } from 'node:util';
import request from 'supertest';
import { freePort, useRedisServer } from '../support/redis-server';

const PASSWORD = 's3cretpw-7f3a';
const USER = 'ada-lovelace';

/** Every line the app, Nest and the console write while `body` runs. */
async function capturing<T>(body: (logger: LoggerService) => Promise<T>): Promise<{ result?: T; error?: unknown; lines: string[] }> {
  const lines: string[] = [];
  const line = (level: string) => (...args: unknown[]) => {
    lines.push(`${level} ${args.map((a) => (typeof a === 'string' ? a : inspect(a, { depth: 5 }))).join(' ')}`);
  };
  const logger: LoggerService = { log: line('log'), error: line('error'), warn: line('warn'), debug: line('debug'), verbose: line('verbose'), fatal: line('fatal') };
  const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((m) => jest.spyOn(console, m).mockImplementation(line(`console.${m}`)));
  const writes = [process.stdout, process.stderr].map((stream) =>
    jest.spyOn(stream, 'write').mockImplementation(((chunk: unknown) => {
      lines.push(`stream ${String(chunk)}`);
      return true;
    }) as never));
  try {
    return { result: await body(logger), lines };
  } catch (error) {
    return { error, lines };
  } finally {
    for (const spy of [...spies, ...writes]) spy.mockRestore();
  }
}

@Controller('ping')
class PingController {
  constructor(private readonly cache: CacheService) {}

  @Get()
  async ping(): Promise<{ cached: unknown }> {
    await this.cache.namespace('sessions').set('ping', 'pong');
    return { cached: await this.cache.namespace('sessions').get('ping') };
  }
}

async function startApp(imports: any[], logger: LoggerService): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({ imports, controllers: [PingController] }).setLogger(logger).compile();
  const app = moduleRef.createNestApplication({ logger });
  try {
    await app.init();
  } catch (error) {
    await app.close();
    throw error;
  }
  return app;
}

/** Everything an operator could see of a failed start: the log lines, and the error printed in full. */
function everythingShown(error: unknown, lines: string[]): string {
  return [...lines, String(error), (error as Error)?.stack ?? '', inspect(error, { depth: 10, showHidden: true })].join('\n');
}

describe('a malformed Redis URL never shows its password', () => {
  const redis = useRedisServer({ password: PASSWORD });
  let closed: number;

  beforeAll(async () => {
    closed = await freePort(); // nobody listens there: a URL that slipped through would not reach any Redis
  });

  const malformed = (): [string, string][] => [
    ['a port out of range', `redis://${USER}:${PASSWORD}@127.0.0.1:99999`],
    ['port 0', `redis://${USER}:${PASSWORD}@127.0.0.1:0`],
    ['a port that is not a number', `redis://${USER}:${PASSWORD}@127.0.0.1:${closed}x`],
    ['a host with a space', `redis://${USER}:${PASSWORD}@cache host.internal:${closed}`],
    ['no host', `redis://${USER}:${PASSWORD}@:${closed}`],
    ['an unclosed IPv6 bracket', `redis://${USER}:${PASSWORD}@[::1:${closed}`],
    ['a bad percent escape in the password', `redis://${USER}:${PASSWORD}%zz@127.0.0.1:${closed}`],
    ['a "#" in the password', `redis://${USER}:${PASSWORD}#1@127.0.0.1:${closed}`],
    ['a database that is not a number', `redis://${USER}:${PASSWORD}@127.0.0.1:${redis.server.port}/sessions`],
  ];

  it('refuses each malformed redis.url with InvalidOptionsError naming redis.url; the password appears nowhere', async () => {
    for (const [form, url] of malformed()) {
      const options: CacheModuleOptions = { redis: { url }, namespaces: { sessions: { backend: 'redis' } } };
      const { result, error, lines } = await capturing((logger) => startApp([CacheModule.forRoot(options)], logger));
      await result?.close();
      expect({ form, error }).toEqual({ form, error: expect.any(InvalidOptionsError) });
      expect((error as InvalidOptionsError).problems.map((p) => p.path)).toEqual(['redis.url']);
      const shown = everythingShown(error, lines);
      for (const secret of [PASSWORD, USER, url]) expect({ form, leaked: shown.includes(secret) }).toEqual({ form, leaked: false });
    }
  });

  it('refuses each malformed REDIS_URL read by redisOptionsFromEnv in forRootAsync, naming REDIS_URL', async () => {
    for (const [form, url] of malformed()) {
      const { result, error, lines } = await capturing((logger) => startApp([CacheModule.forRootAsync({
        useFactory: () => ({ redis: redisOptionsFromEnv({ REDIS_URL: url }), namespaces: { sessions: { backend: 'redis' } } }),
      })], logger));
      await result?.close();
      expect({ form, error }).toEqual({ form, error: expect.any(InvalidOptionsError) });
      expect((error as InvalidOptionsError).problems.map((p) => p.path)).toEqual(['REDIS_URL']);
      const shown = everythingShown(error, lines);
      for (const secret of [PASSWORD, USER, url]) expect({ form, leaked: shown.includes(secret) }).toEqual({ form, leaked: false });
    }
  });

  it('refuses a URL given as redis.host, without echoing it', async () => {
    const { error, lines } = await capturing((logger) => startApp([CacheModule.forRoot({
      redis: { host: `redis://${USER}:${PASSWORD}@127.0.0.1`, port: closed }, namespaces: { sessions: { backend: 'redis' } },
    })], logger));
    expect((error as InvalidOptionsError).problems.map((p) => p.path)).toEqual(['redis.host']);
    expect(everythingShown(error, lines)).not.toContain(PASSWORD);
  });

  it('starts with a well-formed URL (percent-encoded password), and a wrong password is logged without it', async () => {
    const good = await capturing((logger) => startApp([CacheModule.forRoot({
      redis: { url: `redis://:${encodeURIComponent(PASSWORD)}@127.0.0.1:${redis.server.port}/0` }, namespaces: { sessions: { backend: 'redis' } },
    })], logger));
    expect(good.error).toBeUndefined();
    try {
      await request(good.result!.getHttpServer()).get('/ping').expect(200, { cached: 'pong' });
    } finally {
      await good.result!.close();
    }

    const wrong = 'not-the-pw-91c2';
    const bad = await capturing(async (logger) => {
      const app = await startApp([CacheModule.forRoot({
        redis: { url: `redis://:${wrong}@127.0.0.1:${redis.server.port}` }, namespaces: { sessions: { backend: 'redis' } },
      })], logger);
      try {
        await request(app.getHttpServer()).get('/ping');
      } finally {
        await app.close();
      }
    });
    expect(bad.lines.join('\n')).toMatch(/WRONGPASS|NOAUTH|invalid password|invalid username-password/i);
    expect(everythingShown(bad.error, bad.lines)).not.toContain(wrong);
  });
});
