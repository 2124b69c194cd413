# shellcheck shell=bash
# Writes one fresh Nest app into a directory, made the way `nest new` makes it for its NestJS major
# (package.json, tsconfig, test runner configuration as in @nestjs/schematics' application template),
# plus the code a user of nest-cachekit writes: the README's quick start, @Cacheable/@CacheEvict on a
# service, @CacheRoute behind CacheInterceptor, a tiny backend of their own registered under
# `backends`, its contract test (nest-cachekit/testing), and an e2e test on Express and Fastify.
#
#   write_nest_app <dir> <nest major: 11|12> <module: cjs|esm> <runner: jest|vitest> <tarball path>
#
# Sourced by fresh-app-smoke.sh; installs nothing.

write_nest_app() {
  local dir=$1 nest=$2 module=$3 runner=$4 tarball=$5
  local ext='' type_field='' typescript test_types
  [ "$module" = esm ] && ext='.js' && type_field='"type": "module",'
  # The TypeScript each major's template asks for.
  if [ "$nest" = 11 ]; then typescript='^5.7.3'; else typescript='^6.0.2'; fi
  mkdir -p "$dir/src" "$dir/test"

  local runner_scripts runner_deps
  if [ "$runner" = jest ]; then
    test_types='"node", "jest"'
    # Nest 12 is ESM-only: its CommonJS template runs Jest with --experimental-vm-modules.
    local jest='jest'
    [ "$nest" = 12 ] && jest='node --experimental-vm-modules ./node_modules/jest/bin/jest.js'
    runner_scripts="\"test\": \"$jest\", \"test:e2e\": \"$jest --config ./test/jest-e2e.json\""
    runner_deps='"jest": "^30.0.0", "ts-jest": "^29.4.0", "@types/jest": "^30.0.0",'
  else
    test_types='"vitest/globals", "node"'
    runner_scripts='"test": "vitest run", "test:e2e": "vitest run --config ./vitest.config.e2e.ts"'
    runner_deps='"vitest": "^4.1.2", "vite": "^8.0.0",'
  fi

  cat > "$dir/package.json" <<JSON
{
  "name": "fresh-nest$nest-$module-$runner",
  "version": "0.0.1",
  "private": true,
  $type_field
  "scripts": { "build": "tsc -p tsconfig.build.json", "start:prod": "node dist/main", $runner_scripts },
  "dependencies": {
    "@nestjs/common": "^$nest.0.1",
    "@nestjs/core": "^$nest.0.1",
    "@nestjs/platform-express": "^$nest.0.1",
    "@nestjs/platform-fastify": "^$nest.0.0",
    "nest-cachekit": "file:$tarball",
    "reflect-metadata": "^0.2.2",
    "rxjs": "^7.8.1"
  },
  "devDependencies": {
    "@nestjs/testing": "^$nest.0.1",
    "@types/express": "^5.0.0",
    "@types/node": "^24.0.0",
    "@types/supertest": "^7.0.0",
    $runner_deps
    "supertest": "^7.0.0",
    "typescript": "$typescript"
  }$( [ "$runner" = jest ] && printf ',\n  "jest": %s' '{ "moduleFileExtensions": ["js", "json", "ts"], "rootDir": "src", "testRegex": ".*\\.spec\\.ts$", "transform": { "^.+\\.(t|j)s$": "ts-jest" }, "testEnvironment": "node" }')
}
JSON

  # The template's tsconfig (strict on, and the test runner's globals typed).
  cat > "$dir/tsconfig.json" <<JSON
{
  "compilerOptions": {
    "module": "nodenext", "moduleResolution": "nodenext", "resolvePackageJsonExports": true,
    "esModuleInterop": true, "isolatedModules": true, "declaration": true, "removeComments": true,
    "emitDecoratorMetadata": true, "experimentalDecorators": true, "allowSyntheticDefaultImports": true,
    "target": "ES2023", "outDir": "./dist", "rootDir": ".", "skipLibCheck": true,
    "strict": true, "strictPropertyInitialization": false, "types": [$test_types]
  },
  "exclude": ["node_modules", "dist"]
}
JSON
  cat > "$dir/tsconfig.build.json" <<'JSON'
{ "extends": "./tsconfig.json", "compilerOptions": { "rootDir": "./src" }, "include": ["src"], "exclude": ["node_modules", "test", "dist", "**/*spec.ts"] }
JSON
  if [ "$runner" = jest ]; then
    cat > "$dir/test/jest-e2e.json" <<'JSON'
{ "moduleFileExtensions": ["js", "json", "ts"], "rootDir": ".", "testEnvironment": "node", "testRegex": ".e2e-spec.ts$", "transform": { "^.+\\.(t|j)s$": "ts-jest" } }
JSON
  else
    for config in vitest.config vitest.config.e2e; do
      local include='**/*.spec.ts'
      [ "$config" = vitest.config.e2e ] && include='**/*.e2e-spec.ts'
      cat > "$dir/$config.ts" <<TS
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { tsconfigPaths: true },
  test: { globals: true, root: './', include: ['$include'] },
});
TS
    done
  fi

  # The README's quick start: CacheService and an injected namespace.
  cat > "$dir/src/profiles.service.ts" <<'TS'
import { Injectable } from '@nestjs/common';
import { CacheNamespace, CacheService, InjectCache } from 'nest-cachekit';

interface TopTracks { topTracks: { id: string; plays: number }[] }

@Injectable()
export class ProfilesService {
  constructor(
    private readonly cache: CacheService,
    @InjectCache('users') private readonly users: CacheNamespace<TopTracks>,
  ) {}

  async demo(): Promise<string[]> {
    await this.cache.set('spotify:user:123', { topTracks: [{ id: 't1', plays: 12 }] }, { ttl: '1h' });
    const hit = await this.cache.get<TopTracks>('spotify:user:123');
    await this.cache.invalidate('spotify:user:123');
    const miss = await this.cache.get('spotify:user:123');
    const loaded = await this.users.getOrSet('user:1', async () => ({ topTracks: [] }), { ttl: 60_000 });
    return [String(hit?.topTracks[0].plays), String(miss), String(loaded.topTracks.length)];
  }
}
TS

  # A backend of the user's own: serialized strings in a Map under the namespace's prefix.
  cat > "$dir/src/map-backend.ts" <<'TS'
import { Injectable } from '@nestjs/common';
import { BackendContext, BackendEntry, CacheBackend, CacheBackendFactory } from 'nest-cachekit';

interface Stored { value: string; expiresAt: number }

class MapBackend implements CacheBackend {
  readonly name = 'map';
  readonly storesLiveValues = false;
  constructor(private readonly store: Map<string, Stored>, private readonly prefix: string) {}

  async get(key: string): Promise<string | undefined> {
    const entry = this.store.get(this.prefix + key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt !== 0 && entry.expiresAt <= Date.now()) {
      this.store.delete(this.prefix + key);
      return undefined;
    }
    return entry.value;
  }
  async set(key: string, value: unknown, ttlMs: number): Promise<void> {
    this.store.set(this.prefix + key, { value: value as string, expiresAt: ttlMs > 0 ? Date.now() + ttlMs : 0 });
  }
  async delete(key: string): Promise<boolean> {
    const existed = (await this.get(key)) !== undefined;
    this.store.delete(this.prefix + key);
    return existed;
  }
  async has(key: string): Promise<boolean> { return (await this.get(key)) !== undefined; }
  async mget(keys: readonly string[]): Promise<unknown[]> { return Promise.all(keys.map((k) => this.get(k))); }
  async mset(entries: readonly BackendEntry[]): Promise<void> { for (const e of entries) await this.set(e.key, e.value, e.ttlMs); }
  async clear(): Promise<number> {
    let removed = 0;
    for (const key of [...this.store.keys()]) if (key.startsWith(this.prefix) && this.store.delete(key)) removed++;
    return removed;
  }
}

@Injectable()
export class MapBackendFactory implements CacheBackendFactory {
  readonly store = new Map<string, Stored>();
  create(context: BackendContext): CacheBackend { return new MapBackend(this.store, context.keyPrefix); }
}
TS
  # Its contract test, as docs/backends.md shows it (the runner's globals).
  cat > "$dir/src/map-backend.spec.ts" <<TS
import { describeBackendContract } from 'nest-cachekit/testing';
import { MapBackendFactory } from './map-backend$ext';

describeBackendContract('map', { setUp: async () => new MapBackendFactory(), tearDown: async () => undefined });
TS

  # The decorators, on the user's backend; key templates by parameter name and position.
  cat > "$dir/src/tracks.service.ts" <<'TS'
import { Injectable } from '@nestjs/common';
import { Cacheable, CacheEvict } from 'nest-cachekit';

export interface Track { id: string; title: string; load: number }

@Injectable()
export class TracksService {
  loads = 0;

  @Cacheable({ namespace: 'tracks', key: 'track:{id}', ttl: '1m' })
  async find(id: string): Promise<Track> {
    return { id, title: `Track ${id}`, load: ++this.loads };
  }

  @CacheEvict({ namespace: 'tracks', key: 'track:{0}' })
  async rename(id: string): Promise<void> {
    void id;
  }
}
TS
  cat > "$dir/src/tracks.controller.ts" <<TS
import { Controller, Get, Param, UseInterceptors } from '@nestjs/common';
import { CacheInterceptor, CacheRoute } from 'nest-cachekit';
import { Track, TracksService } from './tracks.service$ext';

@Controller('tracks')
@UseInterceptors(CacheInterceptor)
export class TracksController {
  calls = 0;
  constructor(private readonly tracks: TracksService) {}

  @Get(':id')
  @CacheRoute({ namespace: 'pages', ttl: '30s' })
  async find(@Param('id') id: string): Promise<Track & { call: number }> {
    return { ...(await this.tracks.find(id)), call: ++this.calls };
  }
}
TS
  cat > "$dir/src/app.module.ts" <<TS
import { Module } from '@nestjs/common';
import { CacheModule } from 'nest-cachekit';
import { MapBackendFactory } from './map-backend$ext';
import { ProfilesService } from './profiles.service$ext';
import { TracksController } from './tracks.controller$ext';
import { TracksService } from './tracks.service$ext';

@Module({
  imports: [CacheModule.forRoot({
    isGlobal: true,
    backends: { map: MapBackendFactory },
    namespaces: { users: { ttl: '10m', maxEntries: 10_000 }, tracks: { backend: 'map' }, pages: {} },
  })],
  controllers: [TracksController],
  providers: [ProfilesService, TracksService],
})
export class AppModule {}
TS
  cat > "$dir/src/http-adapters.ts" <<'TS'
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';

export const ADAPTERS = ['express', 'fastify'] as const;
export type AdapterName = (typeof ADAPTERS)[number];

export function adapterFor(name: AdapterName): ExpressAdapter | FastifyAdapter {
  return name === 'express' ? new ExpressAdapter() : new FastifyAdapter();
}
TS
  # The built app under plain Node (no test runner's module loader): the quick start, then each
  # adapter on a real socket. One line of results.
  # The built app under plain Node (no test runner's module loader): the quick start, then each
  # adapter on a real socket, and which optional peers are absent. One line of results.
  cat > "$dir/src/main.ts" <<TS
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { createRequire } from 'node:module';
import { AppModule } from './app.module$ext';
import { ADAPTERS, AdapterName, adapterFor } from './http-adapters$ext';
import { ProfilesService } from './profiles.service$ext';
import { TracksService } from './tracks.service$ext';

async function quickStart(): Promise<string> {
  const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
  const result = await app.get(ProfilesService).demo();
  await app.close();
  return result.join(',');
}

async function overHttp(adapter: AdapterName): Promise<string> {
  const app = await NestFactory.create(AppModule, adapterFor(adapter), { logger: false });
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  const first = await fetch(url + '/tracks/t1');
  const second = await fetch(url + '/tracks/t1');
  const loads = app.get(TracksService).loads;
  await app.close();
  return [first.status, first.headers.get('x-cache'), second.headers.get('x-cache'), 'loads=' + loads].join(',');
}

/** The optional peers npm did not install (it installs required peers only). */
function absentPeers(): string {
  const appRequire = createRequire(process.cwd() + '/package.json');
  return ['prom-client', '@opentelemetry/api'].filter((name) => {
    try {
      appRequire.resolve(name);
      return false;
    } catch {
      return true;
    }
  }).join(',');
}

async function main(): Promise<void> {
  const parts = ['quickstart=' + (await quickStart())];
  for (const adapter of ADAPTERS) parts.push(adapter + '=' + (await overHttp(adapter)));
  parts.push('absent=' + absentPeers());
  console.log('RESULT ' + parts.join(' '));
}
main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
TS
  # The declarations the app reaches through nest-cachekit, checked too (skipLibCheck off): none may
  # name an optional peer that is not installed.
  cat > "$dir/tsconfig.libcheck.json" <<'JSON'
{ "extends": "./tsconfig.json", "compilerOptions": { "skipLibCheck": false, "noEmit": true, "types": ["node"] }, "include": [], "files": ["src/profiles.service.ts", "src/map-backend.spec.ts"] }
JSON

  # The e2e test a user writes with the template's supertest, on each adapter.
  cat > "$dir/test/app.e2e-spec.ts" <<TS
import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { AppModule } from '../src/app.module$ext';
import { ADAPTERS, adapterFor } from '../src/http-adapters$ext';
import { TracksService } from '../src/tracks.service$ext';

describe.each(ADAPTERS)('nest-cachekit in a fresh app on %s', (adapter) => {
  let app: INestApplication;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = moduleRef.createNestApplication(adapterFor(adapter), { logger: false });
    await app.init();
    if (adapter === 'fastify') await app.getHttpAdapter().getInstance().ready();
  });
  afterAll(() => app.close());

  it('serves a @CacheRoute response from the cache the second time (CacheInterceptor)', async () => {
    const first = await request(app.getHttpServer()).get('/tracks/t7').expect(200);
    const second = await request(app.getHttpServer()).get('/tracks/t7').expect(200);
    expect([first.headers['x-cache'], second.headers['x-cache']]).toEqual(['MISS', 'HIT']);
    expect(second.body).toEqual(first.body);
    expect(first.body).toMatchObject({ id: 't7', call: 1 });
  });

  it('reads through @Cacheable on the app\'s own backend and drops the entry with @CacheEvict', async () => {
    const tracks = app.get(TracksService);
    const before = tracks.loads;
    expect(await tracks.find('t8')).toEqual(await tracks.find('t8'));
    expect(tracks.loads - before).toBe(1);
    await tracks.rename('t8');
    await tracks.find('t8');
    expect(tracks.loads - before).toBe(2);
  });
});
TS
}
