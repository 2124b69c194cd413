/**
 * Every relative link in README*.md and docs/*.md points at a file that exists and, with a `#anchor`,
 * at a heading of that file, slugged as GitHub renders it (so a renamed heading breaks this test
 * rather than a reader's click).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'fs';
import { dirname, join, relative, resolve } from 'path';

const root = resolve(__dirname, '..');

function markdownFiles(): string[] {
  const top = readdirSync(root).filter((f) => /^README.*\.md$/.test(f)).map((f) => join(root, f));
  const docs = readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join(root, 'docs', f));
  return [...top, ...docs];
}

/** Lines outside fenced code blocks (links and headings inside code are not links and headings). */
function proseLines(text: string): string[] {
  const lines: string[] = [];
  let fence: string | undefined;
  for (const line of text.split('\n')) {
    const marker = /^\s*(```|~~~)/.exec(line)?.[1];
    if (marker !== undefined) {
      if (fence === undefined) fence = marker;
      else if (fence === marker) fence = undefined;
      continue;
    }
    if (fence === undefined) lines.push(line);
  }
  return lines;
}

/** GitHub's heading slug: the rendered text, lower-cased, punctuation dropped, spaces to hyphens, duplicates numbered. */
function headingSlugs(text: string): Set<string> {
  const slugs = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseLines(text)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const rendered = heading
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // links and images: their text
      .replace(/`/g, '')
      .replace(/\*\*|\*/g, '')
      .replace(/<[^>]+>/g, '');
    const base = rendered.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    slugs.add(count === 0 ? base : `${base}-${count}`);
  }
  return slugs;
}

interface Link { file: string; line: number; target: string }

function links(file: string): Link[] {
  const found: Link[] = [];
  const text = readFileSync(file, 'utf8');
  // Line numbers of prose lines: recompute by scanning with the fence state.
  let fence: string | undefined;
  text.split('\n').forEach((line, index) => {
    const marker = /^\s*(```|~~~)/.exec(line)?.[1];
    if (marker !== undefined) {
      if (fence === undefined) fence = marker;
      else if (fence === marker) fence = undefined;
      return;
    }
    if (fence !== undefined) return;
    const withoutCode = line.replace(/`[^`]*`/g, '');
    for (const match of withoutCode.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      found.push({ file, line: index + 1, target: match[1] });
    }
  });
  return found;
}

const files = markdownFiles();
const slugCache = new Map<string, Set<string>>();
const slugsOf = (file: string): Set<string> => {
  let slugs = slugCache.get(file);
  if (slugs === undefined) slugCache.set(file, (slugs = headingSlugs(readFileSync(file, 'utf8'))));
  return slugs;
};

describe('documentation links', () => {
  it('finds the README and the docs pages', () => {
    expect(files.map((f) => relative(root, f))).toEqual(expect.arrayContaining(['README.md', 'docs/architecture.md']));
  });

  it('slugs headings as GitHub does', () => {
    const slugs = headingSlugs('# Tiers (L1 memory + L2 Redis)\n## HTTP responses: `CacheInterceptor`\n## @Cacheable, @CachePut\n## Options\n## Options\n```\n# not a heading\n```');
    expect([...slugs]).toEqual(['tiers-l1-memory--l2-redis', 'http-responses-cacheinterceptor', 'cacheable-cacheput', 'options', 'options-1']);
  });

  it.each(files.map((f) => [relative(root, f), f]))('%s: every relative link resolves to a file and heading', (_name, file) => {
    const broken: string[] = [];
    for (const link of links(file)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(link.target)) continue; // https:, mailto:
      const [path, anchor] = link.target.split('#', 2) as [string, string | undefined];
      const target = path === '' ? file : resolve(dirname(file), decodeURIComponent(path));
      const where = `${relative(root, file)}:${link.line} → ${link.target}`;
      if (!target.startsWith(root + '/') && target !== root) {
        broken.push(`${where}: outside the repository`);
      } else if (!existsSync(target)) {
        broken.push(`${where}: no such file`);
      } else if (anchor !== undefined) {
        if (!statSync(target).isFile() || !target.endsWith('.md')) broken.push(`${where}: an anchor into a file that is not Markdown`);
        else if (!slugsOf(target).has(anchor)) broken.push(`${where}: no heading with that anchor`);
      }
    }
    expect(broken).toEqual([]);
  });
});
