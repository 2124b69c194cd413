import { TracerProvider } from '@opentelemetry/api';
import { InvalidOptionsError, OptionProblem } from '../errors/invalid-options.error';

/** `CacheOtelModule.forRoot(options)`. */
export interface CacheOtelOptions {
  /** The provider the spans are made with. Default: the global one, once an SDK has registered it (`NodeSDK.start()`). */
  tracerProvider?: TracerProvider;
  /** How often (ms) to look whether an SDK has registered a global provider, or gone. Default 1000. */
  providerCheckIntervalMs?: number;
}

export interface ResolvedOtelOptions {
  readonly tracerProvider: TracerProvider | undefined;
  readonly providerCheckIntervalMs: number;
}

const KNOWN = new Set(['tracerProvider', 'providerCheckIntervalMs']);

export function resolveOtelOptions(raw: unknown): ResolvedOtelOptions {
  const at = (field: string) => `CacheOtelModule.${field}`;
  if (raw !== undefined && (raw === null || typeof raw !== 'object' || Array.isArray(raw))) {
    throw new InvalidOptionsError([{ path: 'CacheOtelModule', reason: 'options must be an object' }]);
  }
  const options = (raw ?? {}) as CacheOtelOptions;
  const problems: OptionProblem[] = [];
  for (const field of Object.keys(options)) {
    if (!KNOWN.has(field)) problems.push({ path: at(field), reason: 'is not a known option' });
  }
  if (options.tracerProvider !== undefined && typeof (options.tracerProvider as Partial<TracerProvider>)?.getTracer !== 'function') {
    problems.push({ path: at('tracerProvider'), reason: 'must be an OpenTelemetry TracerProvider' });
  }
  const interval = options.providerCheckIntervalMs;
  if (interval !== undefined && !(Number.isInteger(interval) && interval >= 10 && interval <= 3_600_000)) {
    problems.push({ path: at('providerCheckIntervalMs'), reason: 'must be an integer from 10 to 3600000' });
  }
  if (problems.length > 0) throw new InvalidOptionsError(problems);
  return { tracerProvider: options.tracerProvider, providerCheckIntervalMs: interval ?? 1_000 };
}
