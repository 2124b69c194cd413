import { Logger } from '@nestjs/common';
import { CacheEvents } from '../events/cache-events';
import { logLine } from '../logging/log-line';

const EVENT_LOG_INTERVAL_MS = 10_000;

/** Events that other parts of the cache emit (tamper: encryption; fallback, staleServed, backendState: resilience). */
interface LooseEvents {
  on(event: string, listener: (payload: Record<string, unknown>) => void): () => void;
}

/**
 * Logs the events an operator must see (tamper, fallbacks, stale answers, a circuit opening) at warn,
 * as a subscriber of the module's `CacheEvents`. Event payloads carry keys; the log lines never do.
 */
export class CacheEventLog {
  private readonly unsubscribe: (() => void)[] = [];
  /** Per event and namespace: when a line was last logged, and how many were held back since. */
  private readonly throttled = new Map<string, { loggedAt: number; suppressed: number }>();

  constructor(events: CacheEvents, private readonly logger: Logger) {
    const loose = events as unknown as LooseEvents;
    // Per event and namespace, one line per interval: a forged-entry flood or an outage under load
    // emits an event per call, and must not flood the log (each one is counted in the metrics).
    const warn = (event: string, fields: (p: Record<string, unknown>) => Record<string, string | undefined>) =>
      this.unsubscribe.push(loose.on(event, (payload) => {
        const line = fields(payload);
        const suppressed = this.throttle(`${event}|${line.namespace}`);
        if (suppressed !== null) this.logger.warn(logLine(`cache.${event}`, { ...line, suppressed: suppressed > 0 ? String(suppressed) : undefined }));
      }));
    warn('tamper', (p) => ({ namespace: text(p.namespace), reason: text(p.reason) }));
    warn('staleServed', (p) => ({ namespace: text(p.namespace), reason: text(p.reason) }));
    warn('fallback', (p) => ({ namespace: text(p.namespace), backend: text(p.backend), operation: text(p.operation) }));
    this.unsubscribe.push(loose.on('backendState', (p) => {
      const line = logLine('cache.backend_state', { backend: text(p.backend), state: text(p.state) });
      if (p.state === 'closed') this.logger.log(line);
      else this.logger.warn(line);
    }));
  }

  close(): void {
    for (const off of this.unsubscribe.splice(0)) off();
  }

  /** `null` when this line is held back; otherwise how many were held back before it. */
  private throttle(id: string): number | null {
    const now = Date.now();
    const state = this.throttled.get(id);
    if (state === undefined) {
      this.throttled.set(id, { loggedAt: now, suppressed: 0 });
      return 0;
    }
    if (now - state.loggedAt < EVENT_LOG_INTERVAL_MS) {
      state.suppressed++;
      return null;
    }
    const suppressed = state.suppressed;
    state.loggedAt = now;
    state.suppressed = 0;
    return suppressed;
  }
}

/** Only short identifier-like strings reach a log line from an event payload. */
function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value.slice(0, 64) : undefined;
}
