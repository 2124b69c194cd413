import { Logger } from '@nestjs/common';
import { describeError } from '../logging/error-fields';

export type BreakerState = 'open' | 'half-open' | 'closed';

export interface CircuitBreakerOptions {
  /** Consecutive failed calls that open the circuit. */
  failureThreshold: number;
  /** How long the circuit stays open before a recovery probe. */
  openMs: number;
}

/** Run when the circuit is half-open; all must succeed for it to close (e.g. replay writes, clear L1). */
export type RecoveryHook = () => Promise<void>;

/**
 * A circuit breaker for one shared backend (all tiered namespaces on `redis` share one). Closed: calls
 * go through, consecutive failures are counted. Open: calls are not sent (the tiers answer from L1);
 * after `openMs` a timer moves it to half-open and runs the recovery hooks, which double as the probe:
 * if they all succeed the circuit closes, otherwise it opens again. User calls are never the probe,
 * so no read can reach the backend before the recovery work (replaying writes missed while open,
 * clearing L1s) is done. `probeNow()` runs the probe at once (the backend's connection is back), so
 * writes stop going to L1 only as soon as the backend answers rather than up to `openMs` later.
 */
export class CircuitBreaker {
  private current: BreakerState = 'closed';
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly hooks: RecoveryHook[] = [];
  private readonly listeners: ((state: BreakerState) => void)[] = [];
  private readonly logger = new Logger('CacheCircuitBreaker');
  readonly transitions = { opened: 0, halfOpened: 0, closed: 0 };
  private stopped = false;
  private firstProbeOfOutage = 0;
  /** The backend looked reachable again while a probe was running: if that probe fails, probe again at once. */
  private probeAgain = false;

  constructor(readonly backend: string, private readonly options: CircuitBreakerOptions) {}

  get state(): BreakerState {
    return this.current;
  }

  /** Whether a call may be sent to the backend now. */
  get allows(): boolean {
    return this.current === 'closed';
  }

  onRecover(hook: RecoveryHook): void {
    this.hooks.push(hook);
  }

  onChange(listener: (state: BreakerState) => void): void {
    this.listeners.push(listener);
  }

  success(): void {
    if (this.current === 'closed') this.failures = 0;
  }

  failure(): void {
    if (this.current !== 'closed') return;
    if (++this.failures >= this.options.failureThreshold) this.open();
  }

  /** The backend looks reachable again (its connection is ready): an open circuit probes now instead of at its timer. */
  probeNow(): void {
    if (this.current === 'half-open') this.probeAgain = true;
    if (this.current !== 'open' || this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.probe(), 0);
    this.timer.unref();
  }

  /** Stops the probe timer (application shutdown). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private open(reopen = false): void {
    this.move('open', reopen);
    if (!reopen) {
      this.transitions.opened++;
      this.firstProbeOfOutage = this.transitions.halfOpened + 1;
    }
    clearTimeout(this.timer);
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.probe(), this.options.openMs);
    this.timer.unref();
  }

  private async probe(): Promise<void> {
    this.move('half-open');
    this.transitions.halfOpened++;
    this.probeAgain = false;
    try {
      for (const hook of this.hooks) await hook();
    } catch (error) {
      // Once per outage: a probe fails every `openMs` while the backend is down.
      if (this.transitions.halfOpened === this.firstProbeOfOutage) {
        this.logger.warn(`Backend "${this.backend}" is still failing; circuit stays open: ${describeError(error)}`);
      }
      this.open(true);
      if (this.probeAgain) this.probeNow();
      return;
    }
    this.failures = 0;
    this.transitions.closed++;
    this.move('closed');
  }

  private move(state: BreakerState, quiet = false): void {
    if (state === this.current) return;
    this.current = state;
    const log = `Backend "${this.backend}" circuit ${state}`;
    if (state === 'open' && !quiet) this.logger.error(`${log}: calls go to the L1 tier until it recovers`);
    else if (state === 'closed') this.logger.log(`${log}: recovered`);
    for (const listener of [...this.listeners]) {
      try {
        listener(state);
      } catch {
        // A listener's failure must not keep the circuit in a wrong state.
      }
    }
  }
}
