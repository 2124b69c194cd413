import { Attributes, Context, context, ProxyTracerProvider, Span, SpanKind, trace, Tracer } from '@opentelemetry/api';

/** What `trace.getTracerProvider()` delegates to while no SDK has registered a provider. */
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();
/** How many `recording()` calls go by between two looks at the global provider. */
const RECHECK_EVERY = 1024;
const TRACER_NAME = 'nest-cachekit';

/**
 * Starts the cache's spans through `@opentelemetry/api`. Without an SDK the API hands out no-op spans,
 * but even those cost an allocation and a context lookup per call, more than a memory hit; so this
 * remembers whether a real provider is registered and looks again only every 1024 calls (and at
 * `refresh()`): with no SDK, a hot-path check is one decrement and one comparison.
 */
export class CacheTracer {
  private active = false;
  private countdown = 0;
  private tracer: Tracer | null = null;

  recording(): boolean {
    if (--this.countdown <= 0) this.refresh();
    return this.active;
  }

  /** `recording()` after a fresh look at the global provider (for callers that ask rarely). */
  refreshed(): boolean {
    this.refresh();
    return this.active;
  }

  refresh(): void {
    this.countdown = RECHECK_EVERY;
    const provider = trace.getTracerProvider();
    const delegate = provider instanceof ProxyTracerProvider ? provider.getDelegate() : provider;
    this.active = delegate !== NOOP_PROVIDER;
    // Asked again each time: a tracer taken from an earlier provider would outlive a re-registration.
    this.tracer = this.active ? trace.getTracer(TRACER_NAME) : null;
  }

  /** A span under `parent` (default: the active context); undefined when no SDK is registered. */
  start(name: string, attributes: Attributes, parent?: Context): Span | undefined {
    if (!this.recording() || this.tracer === null) return undefined;
    return this.tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes }, parent ?? context.active());
  }
}
