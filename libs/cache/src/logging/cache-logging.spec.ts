import { Injectable, INestApplicationContext, LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { BackendContext, CacheBackend, CacheBackendFactory } from '../backends/cache-backend.interface';
import { CacheModule } from '../cache.module';
import { CacheService } from '../cache.service';
import { CacheEvict } from '../decorators/cache-evict.decorator';
import { logLine } from './log-line';

/** Every line the app logs, with its level and context: a LoggerService like pino's adapter would be. */
class CapturingLogger implements LoggerService {
  readonly lines: { level: string; message: string; context?: string }[] = [];
  log(message: unknown, context?: string) { this.lines.push({ level: 'log', message: String(message), context }); }
  error(message: unknown, ...rest: unknown[]) { this.lines.push({ level: 'error', message: String(message), context: rest.at(-1) as string }); }
  warn(message: unknown, context?: string) { this.lines.push({ level: 'warn', message: String(message), context }); }
  debug(message: unknown, context?: string) { this.lines.push({ level: 'debug', message: String(message), context }); }
  verbose(message: unknown, context?: string) { this.lines.push({ level: 'verbose', message: String(message), context }); }
}

const SECRET_KEY = 'user:42:email';
const SECRET_VALUE = 'alice@example.com';
const PASSWORD = 'hunter2-s3cret';

/** Stores serialized strings; can fail, or hand back a payload no serializer can read. */
class FlakyBackendFactory implements CacheBackendFactory {
  failing = false;
  corrupt = false;
  readonly store = new Map<string, unknown>();
  constructor(readonly password: string) {}
  create(_context: BackendContext): CacheBackend {
    const guard = () => {
      if (this.failing) throw new Error(`AUTH failed for password ${this.password} reading ${SECRET_KEY}`);
    };
    return {
      name: 'flaky',
      storesLiveValues: false,
      get: async (key) => { guard(); return this.corrupt ? '{not json' : this.store.get(key); },
      set: async (key, value) => { guard(); this.store.set(key, value); },
      delete: async (key) => { guard(); return this.store.delete(key); },
      has: async (key) => { guard(); return this.store.has(key); },
      mget: async (keys) => { guard(); return keys.map((k) => this.store.get(k)); },
      mset: async (entries) => { guard(); for (const e of entries) this.store.set(e.key, e.value); },
      clear: async () => { guard(); const n = this.store.size; this.store.clear(); return n; },
    };
  }
}

@Injectable()
class ProfileService {
  @CacheEvict({ namespace: 'users', key: SECRET_KEY })
  async forget(): Promise<string> {
    return 'forgotten';
  }
}

describe('logging through a replaceable LoggerService', () => {
  const logger = new CapturingLogger();
  const factory = new FlakyBackendFactory(PASSWORD);
  let app: INestApplicationContext;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [CacheModule.forRoot({
        backends: { flaky: factory },
        namespaces: { users: { backend: 'flaky' }, sessions: {} },
        observability: { logOperations: true, metrics: false },
      })],
      providers: [ProfileService],
    }).compile();
    app = moduleRef.createNestApplication({ logger });
    await app.init();
  });

  afterAll(async () => {
    await app.close();
  });

  it('logs operations at debug, fallbacks and tamper at warn, backend failures at error; never a key, value or secret', async () => {
    const cache = app.get(CacheService);
    const users = cache.namespace('users');
    await users.set(SECRET_KEY, { email: SECRET_VALUE });
    await users.get(SECRET_KEY);
    await cache.namespace('sessions').getOrSet(SECRET_KEY, () => SECRET_VALUE);

    // The backend fails: the error is logged once, and getOrSet falls back to the loader (a warning).
    factory.failing = true;
    await expect(users.get(SECRET_KEY)).rejects.toThrow();
    await expect(users.getOrSet(SECRET_KEY, () => ({ email: SECRET_VALUE }))).resolves.toEqual({ email: SECRET_VALUE });
    // A decorated method carries on without the cache, with a warning naming the error, not quoting it.
    await expect(app.get(ProfileService).forget()).resolves.toBe('forgotten');
    expect(logger.lines.some((l) => l.level === 'warn' && l.message.includes('ProfileService.forget: cache unavailable'))).toBe(true);
    factory.failing = false;

    // An entry that cannot be decoded is dropped, with a warning.
    factory.corrupt = true;
    await expect(users.get(SECRET_KEY)).resolves.toBeUndefined();
    factory.corrupt = false;

    // Events the encryption and resilience layers emit.
    const events = cache.events as unknown as { emit(event: string, payload: object): void };
    events.emit('tamper', { namespace: 'users', key: SECRET_KEY, reason: 'auth-tag-mismatch' });
    events.emit('staleServed', { namespace: 'users', key: SECRET_KEY, reason: 'backend-down' });
    events.emit('fallback', { namespace: 'users', operation: 'get', backend: 'redis' });
    events.emit('backendState', { backend: 'redis', state: 'open' });
    events.emit('backendState', { backend: 'redis', state: 'closed' });

    const cacheLines = logger.lines.filter((l) => l.message.startsWith('cache.'));
    const levelsOf = (event: string) => cacheLines.filter((l) => l.message.startsWith(event + ' ')).map((l) => l.level);
    expect(new Set(levelsOf('cache.operation'))).toEqual(new Set(['debug']));
    expect(levelsOf('cache.operation').length).toBeGreaterThanOrEqual(5);
    expect(levelsOf('cache.backend_failure')).toEqual(['error']);
    expect(levelsOf('cache.fallback')).toEqual(['warn', 'warn']);
    expect(levelsOf('cache.unreadable_dropped')).toEqual(['warn']);
    expect(levelsOf('cache.tamper')).toEqual(['warn']);
    expect(levelsOf('cache.staleServed')).toEqual(['warn']);
    expect(levelsOf('cache.backend_state')).toEqual(['warn', 'log']);

    // Structured: one context, `event field=value…`, with the fields an operator filters on.
    for (const line of cacheLines) {
      expect(line.context).toBe('CacheNamespace');
      expect(line.message).toMatch(/^cache\.\w+( [A-Za-z]+=("[^"]*"|[\w.:/@-]+))+$/);
    }
    expect(cacheLines.find((l) => l.message.startsWith('cache.backend_failure'))!.message)
      .toBe('cache.backend_failure namespace=users backend=flaky operation=get error=BackendUnavailableError reason=CACHE_BACKEND_UNAVAILABLE/Error');
    expect(cacheLines.find((l) => l.message.startsWith('cache.tamper'))!.message).toBe('cache.tamper namespace=users reason=auth-tag-mismatch');
    expect(cacheLines).toContainEqual(expect.objectContaining({
      level: 'debug', message: expect.stringMatching(/^cache\.operation namespace=users backend=flaky operation=get outcome=hit durationMs=[\d.]+$/),
    }));

    // Nothing secret in ANY line the app logged, cache or not.
    for (const line of logger.lines) {
      for (const secret of [SECRET_KEY, SECRET_VALUE, PASSWORD, 'email', 'hunter2']) expect(line.message).not.toContain(secret);
    }
  });

  it('holds back repeated backend failures for 10 s and then says how many it held back', async () => {
    const users = app.get(CacheService).namespace('users');
    factory.failing = true;
    const errorsBefore = logger.lines.filter((l) => l.level === 'error').length;
    for (let i = 0; i < 5; i++) await expect(users.has(SECRET_KEY)).rejects.toThrow();
    factory.failing = false;
    // The first test logged one failure less than 10 s ago: these five are all held back.
    expect(logger.lines.filter((l) => l.level === 'error').length).toBe(errorsBefore);
  });

  it('logs a flood of tamper or fallback events once per 10 s per namespace, then says how many it held back', async () => {
    const events = app.get(CacheService).events as unknown as { emit(event: string, payload: object): void };
    const now = Date.now();
    const clock = jest.spyOn(Date, 'now').mockReturnValue(now + 60_000);
    try {
      const linesOf = (prefix: string) => logger.lines.filter((l) => l.message.startsWith(prefix));
      const tampersBefore = linesOf('cache.tamper ').length;
      for (let i = 0; i < 1000; i++) events.emit('tamper', { namespace: 'users', key: SECRET_KEY, reason: 'authentication-failed' });
      events.emit('tamper', { namespace: 'sessions', key: SECRET_KEY, reason: 'malformed' });
      expect(linesOf('cache.tamper ').length).toBe(tampersBefore + 2);
      clock.mockReturnValue(now + 71_000);
      events.emit('tamper', { namespace: 'users', key: SECRET_KEY, reason: 'authentication-failed' });
      expect(linesOf('cache.tamper ').at(-1)!.message).toBe('cache.tamper namespace=users reason=authentication-failed suppressed=999');
    } finally {
      clock.mockRestore();
    }
  });
});

describe('logLine', () => {
  it('writes event field=value, quoting values with spaces or quotes, and skipping undefined fields', () => {
    expect(logLine('cache.fallback', { namespace: 'users', reason: 'no answer in 2 s', count: 3, gone: undefined, ok: true }))
      .toBe('cache.fallback namespace=users reason="no answer in 2 s" count=3 ok=true');
    expect(logLine('cache.x', { v: 'say "hi"' })).toBe('cache.x v="say \\"hi\\""');
  });
});
