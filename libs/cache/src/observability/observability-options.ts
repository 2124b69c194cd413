import { IsBoolean, IsInt, IsOptional, Max, Min, validateSync } from 'class-validator';
import { OptionProblem } from '../errors/invalid-options.error';

/**
 * `CacheModule` options `observability`: what this module publishes on `node:diagnostics_channel`
 * (for `nest-cachekit/prometheus`, `nest-cachekit/otel` or a tool of your own), and its logs.
 */
export interface ObservabilityOptions {
  /** Publish timed calls on `nest-cachekit:latency`, and show this module's figures to `CachePrometheusModule`. Default true. */
  metrics?: boolean;
  /** On the memory backend and tiered namespaces, time 1 call in this many (a clock read costs about as much as a hit). Default 256; 1 = every call. */
  latencySampleEvery?: number;
  /** Publish calls on the operations' tracing channels (`nest-cachekit:get`…) when something subscribes, e.g. `CacheOtelModule`. Default true. */
  tracing?: boolean;
  /** One debug log line per cache operation (outcome and duration, never the key). Default false. */
  logOperations?: boolean;
}

export interface ResolvedObservabilityOptions {
  readonly metrics: boolean;
  readonly latencySampleEvery: number;
  readonly tracing: boolean;
  readonly logOperations: boolean;
}

export const DEFAULT_LATENCY_SAMPLE_EVERY = 256;

/** Options that belong to the optional Prometheus part: named in the error, so that the fix is obvious. */
const PROMETHEUS_OPTIONS = new Set(['registry', 'latencyBuckets']);

class ObservabilityOptionsDto {
  @IsOptional() @IsBoolean()
  metrics?: boolean;

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
        const reason = rule !== 'whitelistValidation' ? (message.startsWith(error.property + ' ') ? message.slice(error.property.length + 1) : message)
          : PROMETHEUS_OPTIONS.has(error.property) ? `is an option of CachePrometheusModule.forRoot({ ${error.property} }) (nest-cachekit/prometheus)`
            : 'is not a known option';
        problems.push({ path: `observability.${error.property}`, reason });
      }
    }
  }
  return {
    metrics: options.metrics ?? true,
    latencySampleEvery: options.latencySampleEvery ?? DEFAULT_LATENCY_SAMPLE_EVERY,
    tracing: options.tracing ?? true,
    logOperations: options.logOperations ?? false,
  };
}
