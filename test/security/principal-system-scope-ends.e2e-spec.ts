/**
 * Threat: the system principal outlives the work it was given for. The library runs `@Warmup`
 * methods as the system principal; what such a method leaves behind (a poller it starts on first
 * use, a listener on a message client it connects lazily) inherits its async context and would keep
 * the system principal's rights for the life of the process, acting on whatever input reaches it
 * later: a queue message that says "clear" clears a namespace only admins may clear. The system
 * principal of the library's own work ends when that work ends: callbacks it left behind run as the
 * unscoped (anonymous) principal, unless the app declares them its own with `runAsSystem`.
 */
import { INestApplication, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CacheAccessControl, CacheAccessDeniedError, CacheModule, CacheService, Warmup } from 'nest-cachekit';
import { EventEmitter } from 'node:events';

/** A message client connected lazily, on first use; it delivers messages from timers of its own. */
class LazyQueue extends EventEmitter {
  private readonly pending: { op: 'clear'; namespace: string }[] = [];

  constructor() {
    super();
    // Deliveries run from the client's own timer, in the context the client was created in.
    setInterval(() => {
      const message = this.pending.shift();
      if (message !== undefined) this.emit('message', message);
    }, 5).unref();
  }

  push(message: { op: 'clear'; namespace: string }): void {
    this.pending.push(message);
  }
}

@Injectable()
class Catalog {
  queue: LazyQueue | undefined;
  explicit: LazyQueue | undefined;
  readonly outcomes: string[] = [];

  constructor(private readonly cache: CacheService) {}

  /** Fills the catalog, and connects the queue client on first use. */
  @Warmup({ namespace: 'catalog' })
  async warm(): Promise<{ key: string; value: string }[]> {
    this.queue ??= this.connect();
    return [{ key: 'album:1', value: 'warm' }];
  }

  /** The same client, connected as the app's own declared system work. */
  connectAsSystem(): void {
    this.explicit = this.cache.runAsSystem(() => this.connect());
  }

  private connect(): LazyQueue {
    const queue = new LazyQueue();
    queue.on('message', (message: { op: 'clear'; namespace: string }) => {
      this.cache.namespace(message.namespace).clear().then(
        () => this.outcomes.push('cleared'),
        (error: unknown) => this.outcomes.push(error instanceof CacheAccessDeniedError ? 'denied' : String(error)),
      );
    });
    return queue;
  }
}

describe('the system principal of a warm-up ends with the warm-up', () => {
  let app: INestApplication;
  let catalog: Catalog;
  let access: CacheAccessControl;
  let cache: CacheService;

  beforeAll(async () => {
    @Module({
      imports: [CacheModule.forRoot({
        isGlobal: true,
        namespaces: { catalog: {} },
        rbac: { enabled: true, roles: { member: { catalog: ['read'] } } },
      })],
      providers: [Catalog],
    })
    class AppModule {}
    app = await NestFactory.create(AppModule, { logger: false });
    await app.init();
    catalog = app.get(Catalog);
    access = app.get(CacheAccessControl);
    cache = app.get(CacheService);
  });
  afterAll(() => app.close());

  const delivered = async (count: number): Promise<void> => {
    for (let i = 0; i < 400 && catalog.outcomes.length < count; i++) await new Promise((resolve) => setTimeout(resolve, 5));
  };

  it('runs what a warm-up left behind as anonymous: a queued "clear" is refused and the entries stay', async () => {
    expect(await access.runAsSystem(() => cache.namespace('catalog').get('album:1'))).toBe('warm');
    catalog.queue!.push({ op: 'clear', namespace: 'catalog' });
    await delivered(1);
    expect(catalog.outcomes).toEqual(['denied']);
    expect(await access.runAsSystem(() => cache.namespace('catalog').get('album:1'))).toBe('warm');
  });

  it('keeps the system principal for what the app itself starts in runAsSystem', async () => {
    catalog.outcomes.length = 0;
    catalog.connectAsSystem();
    catalog.explicit!.push({ op: 'clear', namespace: 'catalog' });
    await delivered(1);
    expect(catalog.outcomes).toEqual(['cleared']);
  });
});
