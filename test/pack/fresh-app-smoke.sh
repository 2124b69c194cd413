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
