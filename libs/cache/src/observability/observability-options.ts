import { IsBoolean, IsInt, IsOptional, Max, Min, validateSync } from 'class-validator';
import { Registry } from 'prom-client';
import { OptionProblem } from '../errors/invalid-options.error';
import { DEFAULT_LATENCY_BUCKETS } from '../metrics/operation-timings';

/** `CacheModule` options `observability`: metrics, tracing and logs of the cache. */
export interface ObservabilityOptions {
  /** Prometheus metrics (`nest_cachekit_*`). Default true. */
  metrics?: boolean;
  /** Registry the metrics go to. Default: prom-client's global registry, the one @willsoto/nestjs-prometheus serves at `/metrics`. */
  registry?: Registry;
  /** Upper bounds (seconds, ascending) of the latency histogram. Default 10 µs … 5 s, 18 buckets. */
  latencyBuckets?: number[];
  /** On the memory backend, time 1 call in this many (a clock read costs about as much as a hit). Default 256; 1 = every call. */
  latencySampleEvery?: number;
  /** OpenTelemetry spans through @opentelemetry/api. Default true: a no-op until an SDK registers a tracer provider. */
  tracing?: boolean;
  /** One debug log line per cache operation (outcome and duration, never the key). Default false. */
  logOperations?: boolean;
}

export interface ResolvedObservabilityOptions {
  readonly metrics: boolean;
  readonly registry: Registry | undefined;
  readonly latencyBuckets: readonly number[];
  readonly latencySampleEvery: number;
  readonly tracing: boolean;
  readonly logOperations: boolean;
}

export const DEFAULT_LATENCY_SAMPLE_EVERY = 256;

class ObservabilityOptionsDto {
  @IsOptional() @IsBoolean()
  metrics?: boolean;

  @IsOptional()
  registry?: unknown;

  @IsOptional()
  latencyBuckets?: unknown;

  @IsOptional() @IsInt() @Min(1) @Max(1_000_000)
  latencySampleEvery?: number;

  @IsOptional() @IsBoolean()
  tracing?: boolean;

  @IsOptional() @IsBoolean()
  logOperations?: boolean;
}

/** Checks `observability` (adding problems under `observability.<field>`) and fills in the defaults. */
export function resolveObservabilityOptions(raw: unknown, problems: OptionProblem[]): ResolvedObservabilityOptions {
  const options = (raw ?? {}) as ObservabilityOptions;
  if (raw !== undefined && (raw === null || typeof raw !== 'object' || Array.isArray(raw))) {
    problems.push({ path: 'observability', reason: 'must be an object' });
  } else if (raw !== undefined) {
    const dto = Object.assign(new ObservabilityOptionsDto(), raw);
    for (const error of validateSync(dto, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: false })) {
      for (const [rule, message] of Object.entries(error.constraints ?? {})) {
        const reason = rule === 'whitelistValidation' ? 'is not a known option'
          : message.startsWith(error.property + ' ') ? message.slice(error.property.length + 1) : message;
        problems.push({ path: `observability.${error.property}`, reason });
      }
    }
    if (options.registry !== undefined && !isRegistry(options.registry)) {
      problems.push({ path: 'observability.registry', reason: 'must be a prom-client Registry' });
    }
    const buckets: unknown = options.latencyBuckets;
    if (buckets !== undefined && !validBuckets(buckets)) {
      problems.push({ path: 'observability.latencyBuckets', reason: 'must be a non-empty array of positive, finite, strictly ascending numbers (seconds)' });
    }
  }
  return {
    metrics: options.metrics ?? true,
    registry: options.registry,
    latencyBuckets: options.latencyBuckets ?? DEFAULT_LATENCY_BUCKETS,
    latencySampleEvery: options.latencySampleEvery ?? DEFAULT_LATENCY_SAMPLE_EVERY,
    tracing: options.tracing ?? true,
    logOperations: options.logOperations ?? false,
  };
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
