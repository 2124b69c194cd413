import { INestApplicationContext, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { CacheService } from '../cache.service';
import { CacheError } from '../errors/cache-error';
import { describeError } from '../logging/error-fields';
import { CacheAccessDeniedError } from '../access/cache-access-denied.error';
import { WarmupReport, WarmupService } from '../warmup/warmup.service';
import { EntryLine, BadLine, readEntryFile } from './entry-file';

export interface WarmupCliOptions {
  module: string;
  exportName: string;
  namespace?: string;
  dryRun: boolean;
  from?: string;
}

/** Where the CLI writes; a test passes its own. */
export interface CliOutput {
  out(text: string): void;
  err(text: string): void;
  readonly isTTY: boolean;
}

export const USAGE = `Usage: nest-cachekit warmup --module <compiled app module file> [--export AppModule]
                            [--namespace <name>] [--dry-run] [--from <entries.json|entries.ndjson>]

Boots the app's context (bootstrap warm-ups skipped), then runs its @Warmup methods (those of one
namespace with --namespace) with a progress bar and a summary, or, with --from, loads the entries of
a JSON array or NDJSON file. --dry-run lists what would run, or checks the file's lines (shape and
namespace; values are checked when written), and writes nothing.
Everything runs as the system principal (rbac.system).
Exit status: 0 when everything succeeded, 1 when a warm-up failed or a line was bad, 2 on a usage error
(a bad argument, a --module that cannot be loaded, an unknown --namespace, an unreadable --from file).`;

export function parseWarmupArgs(argv: readonly string[]): WarmupCliOptions {
  const args = [...argv];
  if (args[0] === 'warmup') args.shift();
  const options: Partial<WarmupCliOptions> = { exportName: 'AppModule', dryRun: false };
  while (args.length > 0) {
    const flag = args.shift()!;
    const value = (): string => {
      const v = args.shift();
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (flag === '--module') options.module = value();
    else if (flag === '--export') options.exportName = value();
    else if (flag === '--namespace') options.namespace = value();
    else if (flag === '--from') options.from = value();
    else if (flag === '--dry-run') options.dryRun = true;
    else throw new UsageError(`unknown argument ${flag}`);
  }
  if (!options.module) throw new UsageError('--module is required');
  return options as WarmupCliOptions;
}

/** A mistake in how the CLI was called: one line on stderr, exit status 2, no stack trace. */
export class UsageError extends CacheError {
  readonly code = 'CACHE_CLI_USAGE';

  constructor(message: string, readonly showUsage = false) {
    super(message);
  }
}

/** Runs the CLI; resolves the process exit status. */
export async function runWarmupCli(argv: readonly string[], output: CliOutput): Promise<number> {
  try {
    return await run(argv, output);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    output.err(`nest-cachekit warmup: ${error.message}\n${error.showUsage ? `\n${USAGE}\n` : ''}`);
    return 2;
  }
}

async function run(argv: readonly string[], output: CliOutput): Promise<number> {
  let options: WarmupCliOptions;
  try {
    options = parseWarmupArgs(argv);
  } catch (error) {
    throw new UsageError((error as Error).message, true);
  }
  const appModule = await loadAppModule(options);
  // Read before the app boots: an unreadable file is a usage error, not a failed run.
  const file = options.from === undefined ? undefined : await readFrom(options.from);
  // Warm-ups are the CLI's job here, not the bootstrap's.
  process.env.NEST_CACHEKIT_SKIP_BOOTSTRAP_WARMUP = '1';
  const app = await NestFactory.createApplicationContext(appModule, { logger: ['error'] });
  try {
    const cache = app.get(CacheService);
    if (options.namespace !== undefined && !cache.namespaces().includes(options.namespace)) {
      throw new UsageError(`unknown namespace "${options.namespace}" (known: ${cache.namespaces().join(', ')})`);
    }
    // The CLI is the app's own bootstrap work: the system principal (a call outside any scope is anonymous).
    return await cache.runAsSystem(() => (file ? loadFile(cache, file, options, output) : runWarmups(app, options, output)));
  } finally {
    await app.close();
  }
}

/** Imports `--module` and picks `--export`; a missing or unloadable file is a usage error. */
async function loadAppModule(options: WarmupCliOptions): Promise<Type<unknown>> {
  const path = isAbsolute(options.module) ? options.module : resolve(process.cwd(), options.module);
  if (!isFile(path)) throw new UsageError(`--module ${options.module}: no such file`);
  let loaded: Record<string, unknown>;
  try {
    loaded = (await import(path)) as Record<string, unknown>;
  } catch (error) {
    throw new UsageError(`--module ${options.module} could not be loaded: ${describeError(error)}`);
  }
  const appModule = loaded?.[options.exportName];
  if (typeof appModule !== 'function') throw new UsageError(`${options.module} has no export "${options.exportName}" (use --export)`);
  return appModule as Type<unknown>;
}

async function readFrom(path: string): Promise<{ path: string; entries: EntryLine[]; bad: BadLine[]; format: 'json' | 'ndjson' }> {
  try {
    return { path, ...(await readEntryFile(path)) };
  } catch (error) {
    throw new UsageError(`--from ${path} could not be read: ${describeError(error)}`);
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

async function runWarmups(app: INestApplicationContext, options: WarmupCliOptions, output: CliOutput): Promise<number> {
  const warmups = app.get(WarmupService);
  const tasks = warmups.tasks({ namespace: options.namespace });
  if (tasks.length === 0) {
    output.out(`No @Warmup methods${options.namespace ? ` for namespace "${options.namespace}"` : ''}.\n`);
    return 0;
  }
  if (options.dryRun) {
    output.out(table(['warm-up', 'namespace', 'priority', 'blocking'], tasks.map((t) => [t.name, t.namespace, String(t.priority), String(t.blocking)])));
    output.out(`dry run: ${tasks.length} warm-up(s) would run\n`);
    return 0;
  }
  let done = 0;
  const bar = progress(output, tasks.length);
  const reports = await warmups.run(tasks, (report) => bar(++done, report.name));
  output.out(table(['warm-up', 'namespace', 'status', 'entries', 'ms'], reports.map(row)));
  const failed = reports.filter((r) => !r.ok).length;
  output.out(`${reports.length - failed} succeeded, ${failed} failed\n`);
  return failed > 0 ? 1 : 0;
}

async function loadFile(
  cache: CacheService, file: { path: string; entries: EntryLine[]; bad: BadLine[]; format: 'json' | 'ndjson' }, options: WarmupCliOptions, output: CliOutput,
): Promise<number> {
  const { entries, bad, format } = file;
  const unit = format === 'json' ? 'entry' : 'line';
  const problems = [...bad];
  let loaded = 0;
  const bar = progress(output, entries.length);
  for (const [i, entry] of entries.entries()) {
    const namespace = entry.namespace ?? options.namespace ?? undefined;
    try {
      const target = namespace === undefined ? cache : cache.namespace(namespace);
      if (!options.dryRun) await target.set(entry.key, entry.value, { ttl: entry.ttl, tags: entry.tags });
      loaded++;
    } catch (error) {
      // A refusal (the CLI runs as rbac.system) is a bad line too, not a crash.
      if (!(error instanceof CacheError) && !(error instanceof CacheAccessDeniedError)) throw error;
      problems.push({ line: entry.line, reason: error.message });
    }
    bar(i + 1, `${unit} ${entry.line}`);
  }
  for (const p of problems.sort((a, b) => a.line - b.line)) output.err(`${unit} ${p.line}: ${p.reason} (skipped)\n`);
  output.out(`${options.dryRun ? 'dry run: would load' : 'loaded'} ${loaded} entries from ${file.path}, skipped ${problems.length} bad ${unit}(s)\n`);
  return problems.length > 0 ? 1 : 0;
}

function row(r: WarmupReport): string[] {
  return [r.name, r.namespace, r.ok ? 'ok' : `FAILED: ${r.error}`, r.entries === undefined ? '-' : String(r.entries), r.durationMs.toFixed(0)];
}

/** A progress bar redrawn in place on a terminal, one line per step otherwise (logs, CI). */
function progress(output: CliOutput, total: number): (done: number, label: string) => void {
  return (done, label) => {
    const width = 24;
    const filled = Math.round((done / Math.max(total, 1)) * width);
    const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${label}`;
    if (output.isTTY) output.out(`\r${line}\u001b[K${done === total ? '\n' : ''}`);
    else output.out(`${line}\n`);
  };
}

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n') + '\n';
}
