import { readFile } from 'node:fs/promises';

/** One entry to load, as written in a `--from` file. */
export interface EntryLine {
  /** 1-based line (NDJSON) or element (JSON array) number, for reports. */
  readonly line: number;
  readonly namespace?: string;
  readonly key: string;
  readonly value: unknown;
  readonly ttl?: number | string;
  readonly tags?: string[];
}

export interface BadLine {
  readonly line: number;
  readonly reason: string;
}

const FIELDS = new Set(['namespace', 'key', 'value', 'ttl', 'tags']);

/**
 * Reads entries from a JSON array or NDJSON file (one `{ key, value, ttl?, tags?, namespace? }` per
 * line; blank lines are skipped). Lines are checked one by one: a bad line is reported with its number
 * and left out, the others are kept.
 */
export async function readEntryFile(path: string): Promise<{ entries: EntryLine[]; bad: BadLine[]; format: 'json' | 'ndjson' }> {
  const text = await readFile(path, 'utf8');
  const entries: EntryLine[] = [];
  const bad: BadLine[] = [];
  if (text.trimStart().startsWith('[')) {
    let items: unknown;
    try {
      items = JSON.parse(text);
    } catch (error) {
      return { entries, bad: [{ line: 1, reason: `not valid JSON: ${(error as Error).message}` }], format: 'json' };
    }
    (items as unknown[]).forEach((item, i) => check(item, i + 1, entries, bad));
    return { entries, bad, format: 'json' };
  }
  text.split('\n').forEach((raw, i) => {
    if (raw.trim() === '') return;
    let item: unknown;
    try {
      item = JSON.parse(raw);
    } catch (error) {
      bad.push({ line: i + 1, reason: `not valid JSON (${(error as Error).message})` });
      return;
    }
    check(item, i + 1, entries, bad);
  });
  return { entries, bad, format: 'ndjson' };
}

function check(item: unknown, line: number, entries: EntryLine[], bad: BadLine[]): void {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) return void bad.push({ line, reason: 'not an object' });
  const record = item as Record<string, unknown>;
  const unknown = Object.keys(record).filter((k) => !FIELDS.has(k));
  if (unknown.length > 0) return void bad.push({ line, reason: `unknown field(s): ${unknown.join(', ')}` });
  if (typeof record.key !== 'string') return void bad.push({ line, reason: '"key" must be a string' });
  if (!('value' in record)) return void bad.push({ line, reason: '"value" is missing' });
  if (record.namespace !== undefined && typeof record.namespace !== 'string') return void bad.push({ line, reason: '"namespace" must be a string' });
  if (record.ttl !== undefined && typeof record.ttl !== 'number' && typeof record.ttl !== 'string') {
    return void bad.push({ line, reason: '"ttl" must be milliseconds or a duration string' });
  }
  if (record.tags !== undefined && (!Array.isArray(record.tags) || record.tags.some((t) => typeof t !== 'string'))) {
    return void bad.push({ line, reason: '"tags" must be an array of strings' });
  }
  entries.push({ line, ...(record as Omit<EntryLine, 'line'>) });
}
