import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { CacheRegistry } from '../cache-registry';
import { CACHE_MODULE_OPTIONS } from '../cache.module-definition';
import { CacheEntryInput } from '../namespace/cache-namespace';
import { CacheError } from '../errors/cache-error';
import { CacheModuleOptions } from '../options/cache-module-options.interface';
import { WARMUP_METADATA, WarmupOptions } from './warmup.decorator';
import { describeError } from '../logging/error-fields';
import { ContractViolationError } from '../errors/contract-violation.error';

/** One discovered `@Warmup` method. */
export interface WarmupTask {
  /** `ClassName.method`. */
  readonly name: string;
  readonly namespace: string;
  readonly priority: number;
  readonly blocking: boolean;
  run(): Promise<unknown>;
}

export interface WarmupReport {
  readonly name: string;
  readonly namespace: string;
  readonly priority: number;
  readonly blocking: boolean;
  readonly ok: boolean;
  /** Entries loaded, when the method returned entries or a count. */
  readonly entries?: number;
  readonly durationMs: number;
  /**
   * Why it failed, by class and code (`TypeError`, `BackendUnavailableError (CACHE_BACKEND_UNAVAILABLE/…)`):
   * never the error's message, which may quote a key or a value.
   */
  readonly error?: string;
}

/** A blocking warm-up failed with `warmup: { failOnError: true }`: the start fails. The error itself is the `cause`. */
export class WarmupFailedError extends CacheError {
  readonly code = 'CACHE_WARMUP_FAILED';

  constructor(readonly report: WarmupReport, cause?: unknown) {
    super(`Cache warm-up ${report.name} failed: ${report.error}`, { cause });
  }
}

/**
 * Finds `@Warmup` methods on Nest-managed providers and runs them in priority order: blocking ones
 * during application bootstrap (before `listen` resolves), the others in the background afterwards.
 * A failing warm-up is logged with its name and counted; it fails the start only with
 * `warmup: { failOnError: true }`. The warm-up CLI calls `run` directly.
 */
@Injectable()
export class WarmupService implements OnApplicationBootstrap {
  private readonly logger = new Logger('CacheWarmup');
  private readonly reports: WarmupReport[] = [];
  private background: Promise<void> = Promise.resolve();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly registry: CacheRegistry,
    @Inject(CACHE_MODULE_OPTIONS) private readonly options: CacheModuleOptions,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // The warm-up CLI sets the variable: it runs the warm-ups itself, with its own report.
    if (this.options.warmup?.onBootstrap === false || process.env.NEST_CACHEKIT_SKIP_BOOTSTRAP_WARMUP === '1') return;
    const tasks = this.tasks();
    const failOnError = this.options.warmup?.failOnError === true;
    // The library's own start-up work: the system principal, explicitly (outside any scope is anonymous).
    const { access } = this.registry;
    for (const { report, error } of await access.runAsSystemWhile(() => this.execute(tasks.filter((t) => t.blocking)))) {
      if (!report.ok && failOnError) throw new WarmupFailedError(report, error);
    }
    const later = tasks.filter((t) => !t.blocking);
    if (later.length > 0) this.background = access.runAsSystemWhile(() => this.run(later)).then(() => undefined);
  }

  /** Every `@Warmup` method, highest priority first (ties by name, for a stable order). */
  tasks(filter: { namespace?: string } = {}): WarmupTask[] {
    const tasks: WarmupTask[] = [];
    for (const wrapper of [...this.discovery.getProviders(), ...this.discovery.getControllers()]) {
      const instance = wrapper.instance as Record<string, unknown> | null | undefined;
      if (!instance || typeof instance !== 'object' || !wrapper.isDependencyTreeStatic() || wrapper.isAlias) continue;
      const prototype = Object.getPrototypeOf(instance);
      if (!prototype) continue;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const options = this.reflector.get<WarmupOptions | undefined>(WARMUP_METADATA, prototype[method]);
        if (options === undefined) continue;
        const namespace = options.namespace ?? this.registry.defaultNamespace;
        this.registry.namespace(namespace); // an unknown namespace fails here, at start-up
        tasks.push({
          name: `${instance.constructor.name}.${method}`,
          namespace,
          priority: options.priority ?? 0,
          blocking: options.blocking ?? true,
          run: async () => (instance[method] as () => unknown).call(instance),
        });
      }
    }
    const selected = filter.namespace === undefined ? tasks : tasks.filter((t) => t.namespace === filter.namespace);
    return selected.sort((a, b) => b.priority - a.priority || a.name.localeCompare(b.name));
  }

  /**
   * Runs the tasks one after another; never throws for a failing task: its report says so. The tasks
   * run as the system principal (they are the app's own loaders); each report is audited with the
   * caller as actor: the system principal at bootstrap and in the CLI, the admin who asked through
   * the admin API, whoever calls `run` otherwise.
   */
  async run(tasks: readonly WarmupTask[], onDone?: (report: WarmupReport) => void): Promise<WarmupReport[]> {
    return (await this.execute(tasks, onDone)).map((outcome) => outcome.report);
  }

  private async execute(tasks: readonly WarmupTask[], onDone?: (report: WarmupReport) => void): Promise<{ report: WarmupReport; error?: unknown }[]> {
    const outcomes: { report: WarmupReport; error?: unknown }[] = [];
    const { access, audit } = this.registry;
    const actor = access.actor();
    for (const task of tasks) {
      const started = performance.now();
      let report: WarmupReport;
      let failure: unknown;
      try {
        const entries = await access.runAsSystemWhile(async () => this.store(task, await task.run()));
        report = { ...describe(task), ok: true, entries, durationMs: performance.now() - started };
        this.logger.log(`${task.name}: ${entries ?? 'some'} entries into "${task.namespace}" in ${report.durationMs.toFixed(0)} ms`);
      } catch (error) {
        report = { ...describe(task), ok: false, durationMs: performance.now() - started, error: describeError(error) };
        failure = error;
        this.logger.error(`${task.name} failed after ${report.durationMs.toFixed(0)} ms: ${report.error}`);
      }
      audit.record({
        ...actor, action: 'warmup', namespace: task.namespace, outcome: report.ok ? 'success' : 'failure',
        detail: { task: task.name, ...(report.entries !== undefined ? { entries: report.entries } : {}), ...(report.error !== undefined ? { error: report.error } : {}) },
      });
      outcomes.push({ report, ...(report.ok ? {} : { error: failure }) });
      this.reports.push(report);
      onDone?.(report);
    }
    return outcomes;
  }

  /** Reports of every warm-up run so far in this process. */
  results(): readonly WarmupReport[] {
    return this.reports;
  }

  /** Resolves when the background warm-ups started at bootstrap are done. */
  settled(): Promise<void> {
    return this.background;
  }

  private async store(task: WarmupTask, result: unknown): Promise<number | undefined> {
    if (typeof result === 'number' && Number.isInteger(result) && result >= 0) return result;
    if (Array.isArray(result)) {
      await this.registry.namespace(task.namespace).mset(result as CacheEntryInput<unknown>[]);
      return result.length;
    }
    if (result === undefined) return undefined;
    throw new ContractViolationError('a @Warmup method must return an array of { key, value, ttl?, tags? }, a count, or nothing');
  }
}

function describe(task: WarmupTask): Pick<WarmupReport, 'name' | 'namespace' | 'priority' | 'blocking'> {
  return { name: task.name, namespace: task.namespace, priority: task.priority, blocking: task.blocking };
}
