/**
 * Every complete TypeScript example in README*.md and docs/*.md (a ```ts block that starts with an
 * import) type-checks against the library's public API (`nest-cachekit` → libs/cache/src/index.ts)
 * and the packages installed here. Snippets that do not start with an import are fragments of a
 * page's prose and are not compiled. An import of a relative path (`./kms-encryption.provider`)
 * stands for the reader's own file: it may not resolve.
 */
import { readdirSync, readFileSync } from 'fs';
import { join, relative, resolve } from 'path';
import * as ts from 'typescript';

const root = resolve(__dirname, '..');

interface Example { name: string; path: string; source: string }

function examples(): Example[] {
  const files = [
    ...readdirSync(root).filter((f) => /^README.*\.md$/.test(f)).map((f) => join(root, f)),
    ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join(root, 'docs', f)),
  ];
  const found: Example[] = [];
  for (const file of files) {
    const lines = readFileSync(file, 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (!/^```(ts|typescript)\s*$/.test(lines[i])) continue;
      const start = i + 1;
      let end = start;
      while (end < lines.length && !/^```\s*$/.test(lines[end])) end++;
      const body = lines.slice(start, end);
      i = end;
      if (!/^import\s/.test(body.find((l) => l.trim() !== '') ?? '')) continue;
      const name = `${relative(root, file)}:${start + 1}`;
      // Virtual files beside the docs, so that packages resolve from the repository's node_modules.
      found.push({ name, path: join(root, 'docs', '.examples', `${name.replace(/[^\w.-]/g, '_')}.ts`), source: body.join('\n') });
    }
  }
  return found;
}

function compilerOptions(): ts.CompilerOptions {
  const configFile = ts.readConfigFile(join(root, 'tsconfig.json'), (p) => ts.sys.readFile(p));
  const parsed = ts.parseJsonConfigFileContent(configFile.config, ts.sys, root);
  return {
    ...parsed.options,
    noEmit: true,
    // Examples show values they do not go on to use.
    noUnusedLocals: false,
    noUnusedParameters: false,
    baseUrl: root,
    paths: {
      'nest-cachekit': ['./libs/cache/src/index.ts'],
      'nest-cachekit/prometheus': ['./libs/cache/src/prometheus/index.ts'],
      'nest-cachekit/otel': ['./libs/cache/src/otel/index.ts'],
    },
  };
}

describe('documentation examples', () => {
  const all = examples();

  it('finds the complete examples (the README quick start among them)', () => {
    expect(all.length).toBeGreaterThan(10);
    expect(all.some((e) => e.name.startsWith('README.md:') && e.source.includes("set('spotify:user:123'"))).toBe(true);
  });

  it('type-checks every complete example against the public API', () => {
    const options = compilerOptions();
    const byPath = new Map(all.map((e) => [e.path, e]));
    const host = ts.createCompilerHost(options);
    const { getSourceFile, fileExists, readFile } = host;
    host.getSourceFile = (fileName, languageVersion, ...rest) => {
      const example = byPath.get(resolve(fileName));
      return example !== undefined
        ? ts.createSourceFile(fileName, example.source, languageVersion, true)
        : getSourceFile.call(host, fileName, languageVersion, ...rest);
    };
    host.fileExists = (fileName) => byPath.has(resolve(fileName)) || fileExists.call(host, fileName);
    host.readFile = (fileName) => byPath.get(resolve(fileName))?.source ?? readFile.call(host, fileName);

    const program = ts.createProgram([...byPath.keys()], options, host);
    const problems: string[] = [];
    for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
      const example = diagnostic.file === undefined ? undefined : byPath.get(resolve(diagnostic.file.fileName));
      if (example === undefined) {
        if (diagnostic.file === undefined) problems.push(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
        continue; // the library's own files are checked by `npm run typecheck`
      }
      const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
      if (diagnostic.code === 2307 && /'\.\.?\//.test(message)) continue; // the reader's own module
      const { line } = diagnostic.file!.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
      const [file, first] = example.name.split(':');
      problems.push(`${file}:${Number(first) + line}: ${message}`);
    }
    expect(problems).toEqual([]);
  }, 180_000);
});
