#!/usr/bin/env bash
# Packs libs/cache with `npm pack` and installs the tarball into two fresh Nest apps made like
# `nest new` makes them today (latest NestJS, TypeScript strict): the default CommonJS template and
# the ESM one. Each app type-checks and runs the README's quick-start code.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d -t nest-cachekit-pack-XXXX)
trap 'rm -rf "$work"' EXIT

npm run --prefix "$root" build:lib >/dev/null
tarball=$(cd "$root/libs/cache" && npm pack --silent --pack-destination "$work")
echo "packed $tarball: $(tar tzf "$work/$tarball" | wc -l) files"
if tar tzf "$work/$tarball" | grep -qE '\.spec\.|/test/|\.ts$' | grep -v '\.d\.ts$'; then
  echo "the tarball ships tests or sources"; exit 1
fi

for flavour in cjs esm; do
  app="$work/app-$flavour"
  mkdir -p "$app/src"
  type_field=''
  [ "$flavour" = esm ] && type_field='"type": "module",'
  cat > "$app/package.json" <<JSON
{ "name": "fresh-app-$flavour", "private": true, $type_field "version": "0.0.0" }
JSON
  cat > "$app/tsconfig.json" <<'JSON'
{
  "compilerOptions": {
    "module": "nodenext", "moduleResolution": "nodenext", "resolvePackageJsonExports": true,
    "esModuleInterop": true, "isolatedModules": true, "declaration": true,
    "emitDecoratorMetadata": true, "experimentalDecorators": true, "allowSyntheticDefaultImports": true,
    "target": "ES2023", "types": ["node"], "outDir": "./dist", "rootDir": "./src",
    "skipLibCheck": false, "strict": true, "strictPropertyInitialization": false
  }
}
JSON
  ext=''
  [ "$flavour" = esm ] && ext='.js'
  # The README's quick start, verbatim in spirit: module, service, the seed example.
  cat > "$app/src/profiles.service.ts" <<TS
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
  cat > "$app/src/app.module.ts" <<TS
import { Module } from '@nestjs/common';
import { CacheModule } from 'nest-cachekit';
import { ProfilesService } from './profiles.service$ext';

@Module({
  imports: [CacheModule.forRoot({ isGlobal: true, namespaces: { users: { ttl: '10m', maxEntries: 10_000 } } })],
  providers: [ProfilesService],
})
export class AppModule {}
TS
  cat > "$app/src/main.ts" <<TS
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module$ext';
import { ProfilesService } from './profiles.service$ext';

async function main(): Promise<void> {
  const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
  const result = await app.get(ProfilesService).demo();
  await app.close();
  console.log('RESULT ' + result.join(','));
}
void main();
TS
  (
    cd "$app"
    npm install --no-audit --no-fund --silent @nestjs/common@latest @nestjs/core@latest reflect-metadata rxjs \
      typescript@^6 @types/node@^20 "$work/$tarball" >/dev/null 2>&1 || npm install --no-audit --no-fund @nestjs/common@latest @nestjs/core@latest reflect-metadata rxjs typescript@^6 @types/node@^20 "$work/$tarball"
    nest=$(node -p "require('@nestjs/core/package.json').version")
    ts=$(node -p "require('typescript/package.json').version")
    npx tsc -p .
    out=$(node dist/main.js)
    if [ "$out" != "RESULT 12,undefined,0" ]; then echo "$flavour app printed: $out"; exit 1; fi
    echo "$flavour app on NestJS $nest, TypeScript $ts (strict): type-checked and ran the quick start"
  )
done

# ---------------------------------------------------------------------------------------------------
# The optional parts (nest-cachekit/prometheus, nest-cachekit/otel). prom-client and @opentelemetry/api
# are optional peer dependencies: an app that installs the library alone gets neither (npm installs
# required peers only), type-checks with skipLibCheck off (no .d.ts of the main entry names them) and
# runs. A second app installs them, with the OpenTelemetry SDK, and gets a Prometheus scrape and spans
# (in-memory exporter) through CachePrometheusModule and CacheOtelModule.
observability_app() {
  local name=$1 app="$work/app-$1"
  mkdir -p "$app/src"
  echo "{ \"name\": \"fresh-app-$name\", \"private\": true, \"version\": \"0.0.0\" }" > "$app/package.json"
  cat > "$app/tsconfig.json" <<'JSON'
{
  "compilerOptions": {
    "module": "nodenext", "moduleResolution": "nodenext", "esModuleInterop": true, "isolatedModules": true,
    "emitDecoratorMetadata": true, "experimentalDecorators": true, "target": "ES2023", "types": ["node"],
    "outDir": "./dist", "rootDir": "./src", "skipLibCheck": false, "strict": true
  }
}
JSON
  cat > "$app/src/main.ts"
  shift
  (
    cd "$app"
    npm install --no-audit --no-fund --silent --prefer-offline @nestjs/common@latest @nestjs/core@latest reflect-metadata rxjs \
      typescript@^6 @types/node@^20 "$work/$tarball" "$@" >/dev/null 2>&1 \
      || npm install --no-audit --no-fund --prefer-offline @nestjs/common@latest @nestjs/core@latest reflect-metadata rxjs typescript@^6 @types/node@^20 "$work/$tarball" "$@"
    npx tsc -p .
    node dist/main.js
  )
}

observability_apps() {
  local out
  out=$(observability_app no-observability <<'TS'
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CacheModule, CacheService } from 'nest-cachekit';

@Module({ imports: [CacheModule.forRoot({ namespaces: { users: { ttl: '10m' } } })] })
class AppModule {}

const missing = ['prom-client', '@opentelemetry/api'].filter((name) => {
  try {
    require.resolve(name);
    return false;
  } catch {
    return true;
  }
});

async function main(): Promise<void> {
  const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
  const users = app.get(CacheService).namespace<{ plays: number }>('users');
  await users.set('spotify:user:123', { plays: 12 }, { ttl: '1h' });
  const hit = await users.get('spotify:user:123');
  await app.close();
  console.log(`RESULT plays=${hit?.plays} missing=${missing.join(',')}`);
}
void main();
TS
  ) || return 1
  if [ "$out" != "RESULT plays=12 missing=prom-client,@opentelemetry/api" ]; then echo "app without prom-client and @opentelemetry/api printed: $out"; return 1; fi
  echo "app without prom-client and @opentelemetry/api: neither installed; type-checked and ran"

  out=$(observability_app observability prom-client @opentelemetry/api '@opentelemetry/sdk-trace-base@^2' '@opentelemetry/context-async-hooks@^2' <<'TS'
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { register } from 'prom-client';
import { CacheModule, CacheService } from 'nest-cachekit';
import { CacheOtelModule } from 'nest-cachekit/otel';
import { CachePrometheusModule } from 'nest-cachekit/prometheus';

// The SDK is registered first, as NodeSDK.start() would be.
const exporter = new InMemorySpanExporter();
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));

@Module({
  imports: [CacheModule.forRoot({ namespaces: { users: {} } }), CachePrometheusModule.forRoot(), CacheOtelModule.forRoot()],
})
class AppModule {}

async function main(): Promise<void> {
  const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
  const users = app.get(CacheService).namespace('users');
  await users.set('user:1', { plays: 12 });
  await users.get('user:1');
  await users.get('user:2');
  await users.getOrSet('user:3', async () => ({ plays: 0 }));
  const scrape = await register.metrics();
  await app.close();
  const sample = (line: string) => new RegExp(`^${line.replace(/[{}]/g, '\\$&')} (\\d+)$`, 'm').exec(scrape)?.[1];
  const hits = sample('nest_cachekit_hits_total{namespace="users",backend="memory"}');
  const timedGets = sample('nest_cachekit_operation_duration_seconds_count{namespace="users",backend="memory",operation="get"}');
  const spans = exporter.getFinishedSpans().map((s) => s.name + (s.attributes['cache.hit'] === undefined ? '' : `:${s.attributes['cache.hit']}`));
  console.log(`RESULT hits=${hits} timedGets=${timedGets} spans=${spans.join(',')}`);
}
void main();
TS
  ) || return 1
  local expected='RESULT hits=1 timedGets=2 spans=cache.set,cache.get:true,cache.get:false,cache.load,cache.getOrSet:false'
  if [ "$out" != "$expected" ]; then echo "app with the optional parts printed: $out"; return 1; fi
  echo "app with prom-client and the OpenTelemetry SDK: metrics scraped and spans exported through nest-cachekit/prometheus and nest-cachekit/otel"
}
observability_apps
