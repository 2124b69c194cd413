#!/usr/bin/env bash
# Packs libs/cache with `npm pack` and installs the tarball, from the npm registry's packages, into
# fresh Nest apps made the way `nest new` makes them (test/pack/nest-app.sh writes them):
#
#   NestJS 11, CommonJS, Jest    NestJS 11, ESM, Vitest    NestJS 12, CommonJS, Jest    NestJS 12, ESM, Vitest
#
# Each app is installed once (one npm cache for all), type-checks (strict, its tests included), runs
# its built code under plain Node (the README's quick start, then a @CacheRoute on Express and on
# Fastify over real sockets), then its unit tests (the backend contract suite, nest-cachekit/testing,
# on the app's own backend) and its e2e tests (CacheInterceptor, @Cacheable, @CacheEvict, on both
# adapters) with its test runner. Then two apps check the optional parts (prom-client and
# @opentelemetry/api absent, then present). Every step is bounded in time; the wall time of each app
# and of the whole is printed.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=test/pack/nest-app.sh
source "$root/test/pack/nest-app.sh"
work=$(mktemp -d -t nest-cachekit-pack-XXXX)
trap 'rm -rf "$work"' EXIT
started=$SECONDS
failures=()
echo "node $(node -v), npm $(npm -v)"

# `bounded <seconds> <command…>`: the command, killed if it runs longer.
bounded() {
  local limit=$1
  shift
  timeout --kill-after=10 "$limit" "$@"
}

npm run --prefix "$root" build:lib >/dev/null || exit 1
tarball=$(cd "$root/libs/cache" && npm pack --silent --pack-destination "$work") || exit 1
echo "packed $tarball: $(tar tzf "$work/$tarball" | wc -l) files"
shipped_sources=$(tar tzf "$work/$tarball" | grep -E '\.spec\.|/test/|\.ts$' | grep -v '\.d\.ts$')
if [ -n "$shipped_sources" ]; then
  echo "the tarball ships tests or sources:"; echo "$shipped_sources" | head; exit 1
fi

# The node that runs the Jest consumer of the NestJS 12 CommonJS app: Jest loads ESM-only packages
# from CommonJS (require(esm)) on Node >= 24.9 only. The node on PATH if recent enough, else
# PACK_SMOKE_NODE24 (a path to a node binary), else none and those tests are skipped, saying so.
node_at_least_24_9() { "$1" -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 24 || (a === 24 && b >= 9) ? 0 : 1)'; }
jest_node=''
if node_at_least_24_9 "$(command -v node)"; then
  jest_node=$(command -v node)
elif [ -n "${PACK_SMOKE_NODE24:-}" ] && node_at_least_24_9 "$PACK_SMOKE_NODE24"; then
  jest_node=$PACK_SMOKE_NODE24
fi
[ -n "$jest_node" ] && echo "Jest on NestJS 12 runs on node $("$jest_node" -v)"

# `timed <label> <command…>`: the command, then `[step] <label> <seconds> s` in the log.
timed() {
  local label=$1 began=$SECONDS status=0
  shift
  "$@" || status=$?
  echo "[step] $label $((SECONDS - began)) s" >&2
  return $status
}

# `fresh_nest_app <nest major> <cjs|esm> <jest|vitest>`
fresh_nest_app() {
  local nest=$1 module=$2 runner=$3
  local name="nest$nest-$module-$runner" began=$SECONDS
  local dir="$work/$name" log="$work/$name.log"
  write_nest_app "$dir" "$nest" "$module" "$runner" "$work/$tarball"
  if ! (
    set -e
    cd "$dir"
    timed install bounded 300 npm install --no-audit --no-fund --prefer-offline --ignore-scripts --loglevel=error
    # One compilation of the app and its tests (strict): dist/src, dist/test.
    timed build bounded 180 npx tsc -p tsconfig.json
    timed run bounded 60 node dist/src/main.js | tee main.out
    expected='RESULT quickstart=12,undefined,0 express=200,MISS,HIT,loads=1 fastify=200,MISS,HIT,loads=1'
    [ "$(cat main.out)" = "$expected" ] || { echo "dist/src/main.js printed: $(cat main.out); expected: $expected"; exit 1; }
    if [ "$nest/$runner" = 12/jest ] && [ -z "$jest_node" ]; then
      echo "[skipped] Jest tests: they need Node >= 24.9 (set PACK_SMOKE_NODE24 to such a node binary)" >&2
    else
      # Nest 12 is ESM-only: Jest loads it from CommonJS through require(esm), which it supports from Node 24.9.
      [ "$nest/$runner" = 12/jest ] && PATH="$(dirname "$jest_node"):$PATH"
      timed unit bounded 180 npm test
      timed e2e bounded 180 npm run test:e2e
    fi
  ) >"$log" 2>&1; then
    echo "!! $name failed; the end of its log:"
    tail -40 "$log"
    failures+=("$name")
    return
  fi
  local versions
  versions=$(cd "$dir" && node -p "['@nestjs/core', '@nestjs/platform-express', '@nestjs/platform-fastify', 'typescript', '$runner'].map((p) => p.replace('@nestjs/', '') + ' ' + require('./node_modules/' + p + '/package.json').version).join(', ')")
  local tested="unit + e2e tests passed"
  grep -q '^\[skipped\]' "$log" && tested=$(grep -h '^\[skipped\]' "$log" | cut -d' ' -f2-)
  echo "$name ($versions): built and ran on express and fastify; $tested"
  echo "  $((SECONDS - began)) s: $(grep -h '^\[step\]' "$log" | cut -d' ' -f2- | paste -sd, | sed 's/,/, /g')"
}

fresh_nest_app 11 cjs jest
fresh_nest_app 11 esm vitest
fresh_nest_app 12 cjs jest
fresh_nest_app 12 esm vitest

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
    set -e
    cd "$app"
    bounded 300 npm install --no-audit --no-fund --prefer-offline --loglevel=error @nestjs/common@latest @nestjs/core@latest \
      reflect-metadata rxjs typescript@^6 @types/node@^20 "$work/$tarball" "$@" >/dev/null
    bounded 120 npx tsc -p .
    bounded 60 node dist/main.js
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
observability_began=$SECONDS
if observability_apps; then
  echo "optional parts: $((SECONDS - observability_began)) s"
else
  failures+=(optional-parts)
fi

echo "packed-library smoke: $((SECONDS - started)) s wall time on node $(node -v)"
if [ ${#failures[@]} -gt 0 ]; then echo "failed: ${failures[*]}"; exit 1; fi
