# shellcheck shell=bash
# Sourced by fresh-app-smoke.sh; installs nothing.

# `write_observability_app <dir> <tarball path>`: an app with the optional peers (prom-client,
# @opentelemetry/api) and the OpenTelemetry SDK, using nest-cachekit/prometheus and nest-cachekit/otel.
write_observability_app() {
  local dir=$1 tarball=$2
  mkdir -p "$dir/src"
  cat > "$dir/package.json" <<JSON
{
  "name": "fresh-app-optional-peers", "private": true, "version": "0.0.0",
  "dependencies": {
    "@nestjs/common": "latest", "@nestjs/core": "latest", "nest-cachekit": "file:$tarball", "reflect-metadata": "^0.2.2", "rxjs": "^7.8.1",
    "prom-client": "^15.0.0", "@opentelemetry/api": "^1.9.0", "@opentelemetry/sdk-trace-base": "^2.0.0", "@opentelemetry/context-async-hooks": "^2.0.0"
  },
  "devDependencies": { "typescript": "^6.0.2", "@types/node": "^24.0.0" }
}
JSON
  cat > "$dir/tsconfig.json" <<'JSON'
{
  "compilerOptions": {
    "module": "nodenext", "moduleResolution": "nodenext", "esModuleInterop": true, "isolatedModules": true,
    "emitDecoratorMetadata": true, "experimentalDecorators": true, "target": "ES2023", "types": ["node"],
    "outDir": "./dist", "rootDir": "./src", "skipLibCheck": false, "strict": true
  }
}
JSON
  cat > "$dir/src/main.ts" <<'TS'
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
}
