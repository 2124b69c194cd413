import { ProxyTracerProvider, trace, Tracer, TracerProvider } from '@opentelemetry/api';

/** What `trace.getTracerProvider()` delegates to while no SDK has registered a provider. */
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();
const TRACER_NAME = 'nest-cachekit';

/**
 * The tracer the cache's spans are made with: from the provider given, or from the global one once an
 * SDK has registered it. Without an SDK the API hands out no-op spans, but even those cost an
 * allocation and a context switch per call, several times a memory hit: so `CacheOtelTracing`
 * subscribes to the cache's channels only while this has a tracer.
 */
export class CacheTracer {
  private tracer: Tracer | null = null;

  constructor(private readonly provider?: TracerProvider) {}

  /** The tracer, or null while no SDK is registered (as of the last `refresh()`). */
  get current(): Tracer | null {
    return this.tracer;
  }

  /** Looks again at the provider; true when spans would be recorded. */
  refresh(): boolean {
    if (this.provider !== undefined) {
      this.tracer ??= this.provider.getTracer(TRACER_NAME);
      return true;
    }
    const provider = trace.getTracerProvider();
    const delegate = provider instanceof ProxyTracerProvider ? provider.getDelegate() : provider;
    // Asked again each time: a tracer taken from an earlier provider would outlive a re-registration.
    this.tracer = delegate !== NOOP_PROVIDER ? trace.getTracer(TRACER_NAME) : null;
    return this.tracer !== null;
  }
}
