import { Context, context, Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { errorName, errorReason } from '../logging/error-fields';
import { CacheOperationContext, OPERATION_CHANNELS } from '../tracing/cache-channels';
import { CacheTracer } from './cache-tracer';

type Store = Parameters<(typeof OPERATION_CHANNELS)[number]['start']['bindStore']>[0];

/**
 * Turns the cache's tracing channels into OpenTelemetry spans: `cache.<operation>` with
 * `cache.namespace`, `cache.backend`, `cache.operation`, `cache.hit` and `cache.tier`; a failed call
 * gets status ERROR with the error's code, never its message (which may quote a key).
 *
 * The span is started in a store bound to each operation's `start` channel, so that the cache call
 * runs with it as the active span: a loader's own spans (a database call) become its children, as
 * `context.with` would make them. `runStores` asks only `run(value, fn)` of a store; OpenTelemetry's
 * context manager keeps its AsyncLocalStorage private, so the store here is an adapter that enters
 * the span's context through the API.
 */
export class CacheSpans {
  private readonly spans = new WeakMap<CacheOperationContext, Span>();
  private readonly store = { run: <R>(active: Context, fn: () => R): R => context.with(active, fn) } as unknown as Store;
  private readonly open = (message: CacheOperationContext): Context => this.start(message);
  private readonly close = (message: unknown): void => this.end(message as CacheOperationContext);
  private subscribed = false;

  constructor(private readonly tracer: CacheTracer, private readonly owns: (cache: object | undefined) => boolean) {}

  subscribe(): void {
    if (this.subscribed) return;
    this.subscribed = true;
    for (const channels of OPERATION_CHANNELS) {
      channels.start.bindStore(this.store, this.open as (message: CacheOperationContext) => unknown);
      channels.asyncEnd.subscribe(this.close);
    }
  }

  unsubscribe(): void {
    if (!this.subscribed) return;
    this.subscribed = false;
    for (const channels of OPERATION_CHANNELS) {
      channels.start.unbindStore(this.store);
      channels.asyncEnd.unsubscribe(this.close);
    }
  }

  private start(message: CacheOperationContext): Context {
    const active = context.active();
    const tracer = this.tracer.current;
    if (tracer === null || !this.owns(message.cache)) return active;
    // A loader's span hangs under its getOrSet even without a context manager.
    const parentSpan = message.parent === undefined ? undefined : this.spans.get(message.parent);
    const parent = parentSpan === undefined ? active : trace.setSpan(active, parentSpan);
    const span = tracer.startSpan(`cache.${message.operation}`, {
      kind: SpanKind.INTERNAL,
      attributes: { 'cache.namespace': message.namespace, 'cache.backend': message.backend, 'cache.operation': message.operation },
    }, parent);
    this.spans.set(message, span);
    return trace.setSpan(parent, span);
  }

  private end(message: CacheOperationContext): void {
    const span = this.spans.get(message);
    if (span === undefined) return;
    this.spans.delete(message);
    if (message.outcome === 'hit' || message.outcome === 'miss') span.setAttribute('cache.hit', message.outcome === 'hit');
    if (message.tier !== undefined) span.setAttribute('cache.tier', message.tier);
    if (message.outcome === 'error') {
      // Name and code only: a message may quote what the caller passed.
      span.recordException({ name: errorName(message.error), message: errorReason(message.error) });
      span.setStatus({ code: SpanStatusCode.ERROR, message: errorReason(message.error) });
    }
    span.end();
  }
}
