/**
 * A real Nest app with a tiered namespace (L1 memory + L2 Redis + invalidation bus), as the tier
 * attack tests start it: one per "instance", each with its own connections, all on one test
 * redis-server. `GET /profiles/:id` answers from the cache, `PUT /profiles/:id` writes to it.
 */
import { randomBytes } from 'node:crypto';
import { Body, Controller, Get, INestApplication, Param, Put } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { CacheEventMap, CacheModule, CacheModuleOptions, CacheNamespace, CacheService, InjectCache } from 'nest-cachekit';
import request from 'supertest';
import { sleep } from '../support/redis-server';

export const BUS_SECRET = randomBytes(32).toString('base64');

export interface Profile {
  name: string;
}

@Controller('profiles')
class ProfilesController {
  constructor(@InjectCache('profiles') private readonly profiles: CacheNamespace<Profile>) {}

  @Get(':id')
  async read(@Param('id') id: string): Promise<{ profile: Profile | null }> {
    return { profile: (await this.profiles.get(id)) ?? null };
  }

  @Put(':id')
  async write(@Param('id') id: string, @Body() profile: Profile): Promise<{ ok: true }> {
    await this.profiles.set(id, { name: profile.name });
    return { ok: true };
  }
}

export interface TieredApp {
  app: INestApplication;
  cache: CacheService;
  profiles: CacheNamespace<Profile>;
  /** Every tier event of this instance, in order. */
  events: { [E in 'fallback' | 'staleServed' | 'backendState']: CacheEventMap[E][] };
  http(): ReturnType<typeof request>;
  close(): Promise<void>;
}

export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} not met in ${timeoutMs} ms`);
    await sleep(10);
  }
}

/** Starts an app on `url`; `options` replace the defaults field by field (namespaces included). */
export async function startTieredApp(url: string, options: Partial<CacheModuleOptions> = {}): Promise<TieredApp> {
  const moduleRef = await Test.createTestingModule({
    imports: [CacheModule.forRoot({
      redis: { url },
      bus: { secret: BUS_SECRET, heartbeat: '100ms' },
      observability: { metrics: false },
      namespaces: { profiles: { backend: 'redis', ttl: '1h', l1: {} } },
      ...options,
    })],
    controllers: [ProfilesController],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  const cache = app.get(CacheService);
  const events: TieredApp['events'] = { fallback: [], staleServed: [], backendState: [] };
  cache.events.on('fallback', (e) => events.fallback.push(e));
  cache.events.on('staleServed', (e) => events.staleServed.push(e));
  cache.events.on('backendState', (e) => events.backendState.push(e));
  const profiles = cache.namespace('profiles') as CacheNamespace<Profile>;
  // L1 hits are served once the bus has heard its own heartbeat.
  await until(() => profiles.stats().bus?.connected === true, 5_000, 'bus trusted');
  return { app, cache, profiles, events, http: () => request(app.getHttpServer()), close: () => app.close() };
}
