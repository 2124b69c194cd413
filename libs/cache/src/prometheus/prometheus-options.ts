import { Registry } from 'prom-client';
import { InvalidOptionsError, OptionProblem } from '../errors/invalid-options.error';
import { DEFAULT_LATENCY_BUCKETS } from './operation-timings';

/** `CachePrometheusModule.forRoot(options)`. */
export interface CachePrometheusOptions {
  /** Registry the metrics go to. Default: prom-client's global registry, the one @willsoto/nestjs-prometheus serves at `/metrics`. */
  registry?: Registry;
  /** Upper bounds (seconds, ascending) of the latency histogram. Default 10 µs … 5 s, 18 buckets. */
  latencyBuckets?: number[];
}

export interface ResolvedPrometheusOptions {
  readonly registry: Registry | undefined;
  readonly latencyBuckets: readonly number[];
}

const KNOWN = new Set(['registry', 'latencyBuckets']);

/** Checks the options, naming each field (`CachePrometheusModule.latencyBuckets`), and fills in the defaults. */
export function resolvePrometheusOptions(raw: unknown): ResolvedPrometheusOptions {
  const problems: OptionProblem[] = [];
  const at = (field: string) => `CachePrometheusModule.${field}`;
  const options = (raw ?? {}) as CachePrometheusOptions;
  if (raw !== undefined && (raw === null || typeof raw !== 'object' || Array.isArray(raw))) {
    throw new InvalidOptionsError([{ path: 'CachePrometheusModule', reason: 'options must be an object' }]);
  }
  for (const field of Object.keys(options)) {
    if (!KNOWN.has(field)) problems.push({ path: at(field), reason: 'is not a known option' });
  }
  if (options.registry !== undefined && !isRegistry(options.registry)) {
    problems.push({ path: at('registry'), reason: 'must be a prom-client Registry' });
  }
  if (options.latencyBuckets !== undefined && !validBuckets(options.latencyBuckets)) {
    problems.push({ path: at('latencyBuckets'), reason: 'must be a non-empty array of positive, finite, strictly ascending numbers (seconds)' });
  }
  if (problems.length > 0) throw new InvalidOptionsError(problems);
  return { registry: options.registry, latencyBuckets: options.latencyBuckets ?? DEFAULT_LATENCY_BUCKETS };
}

/** Duck-typed as well: a second copy of prom-client in the app has its own Registry class. */
function isRegistry(value: unknown): boolean {
  if (value instanceof Registry) return true;
  const r = value as Partial<Registry> | null;
  return typeof r === 'object' && r !== null && typeof r.registerMetric === 'function' && typeof r.getSingleMetric === 'function' && typeof r.metrics === 'function';
}

function validBuckets(value: unknown): boolean {
  return Array.isArray(value) && value.length > 0
    && value.every((b, i) => typeof b === 'number' && Number.isFinite(b) && b > 0 && (i === 0 || b > (value[i - 1] as number)));
}
