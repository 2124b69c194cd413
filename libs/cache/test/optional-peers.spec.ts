/**
 * prom-client and @opentelemetry/api are optional peer dependencies: nothing the main entry
 * (`nest-cachekit`) imports may need them; only `nest-cachekit/prometheus` and `nest-cachekit/otel` do.
 * Checked on the sources' import graph (types included, as the .d.ts files keep them) and by loading
 * and running the main entry with both packages made unloadable. `test/pack/fresh-app-smoke.sh` does
 * the same with the packed library in apps that do not install them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const SRC = join(__dirname, '..', 'src');
const OPTIONAL = /^(prom-client|@opentelemetry\/|@willsoto\/|@nestjs\/terminus)/;

/** Every package (bare specifier) imported by the files reachable from `entry`, with one importer each. */
function packagesReachedFrom(entry: string): Map<string, string> {
  const packages = new Map<string, string>();
  const seen = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const [, specifier] of source.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\brequire\s*\(\s*|^import\s+)['"]([^'"]+)['"]/gm)) {
      if (!specifier.startsWith('.')) {
        if (!packages.has(specifier)) packages.set(specifier, file);
        continue;
      }
      const base = resolve(dirname(file), specifier);
      const target = [`${base}.ts`, join(base, 'index.ts')].find((candidate) => existsSync(candidate));
      if (target === undefined) throw new Error(`${file}: cannot resolve ${specifier}`);
      pending.push(target);
    }
  }
  return packages;
}

describe('optional peer dependencies', () => {
  it('the main entry imports neither prom-client nor @opentelemetry/api, not even for types', () => {
    const reached = packagesReachedFrom(join(SRC, 'index.ts'));
    expect(reached.has('@nestjs/common')).toBe(true);
    const optional = [...reached].filter(([specifier]) => OPTIONAL.test(specifier)).map(([specifier, file]) => `${specifier} (from ${file})`);
    expect(optional).toEqual([]);
  });

  it('the optional entries are where they are imported', () => {
    expect(packagesReachedFrom(join(SRC, 'prometheus', 'index.ts')).has('prom-client')).toBe(true);
    expect(packagesReachedFrom(join(SRC, 'otel', 'index.ts')).has('@opentelemetry/api')).toBe(true);
  });

  it('the main entry loads and serves a cache with both packages unloadable', async () => {
    let result: unknown;
    await jest.isolateModulesAsync(async () => {
      jest.doMock('prom-client', () => {
        throw new Error('prom-client is not installed');
      });
      jest.doMock('@opentelemetry/api', () => {
        throw new Error('@opentelemetry/api is not installed');
      });
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const lib = require('../src/index') as typeof import('../src/index');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { NestFactory } = require('@nestjs/core') as typeof import('@nestjs/core');
      const app = await NestFactory.createApplicationContext(lib.CacheModule.forRoot({ namespaces: { users: {} } }), { logger: false });
      const users = app.get(lib.CacheService).namespace('users');
      await users.set('u1', { name: 'Ada' });
      result = await users.get('u1');
      await app.close();
      // The test can tell: the optional entries do need them.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      expect(() => require('../src/prometheus/index')).toThrow('prom-client is not installed');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      expect(() => require('../src/otel/index')).toThrow('@opentelemetry/api is not installed');
    });
    expect(result).toEqual({ name: 'Ada' });
  });
});
