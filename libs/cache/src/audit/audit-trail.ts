import { Logger } from '@nestjs/common';
import { createHmac } from 'node:crypto';
import { AuditInput, AuditRecord } from './audit-record';
import { AuditSink } from './audit-sink';
import { describeError } from '../logging/error-fields';

const FAILURE_LOG_INTERVAL_MS = 10_000;

export interface AuditStats {
  /** Records handed to the sink. */
  readonly recorded: number;
  /** Records the sink threw on or rejected (never dropped silently: counted here). */
  readonly sinkFailures: number;
}

/**
 * Turns audit inputs into records (time stamped, keys hashed) and hands them to the sink without
 * waiting for it. A failing sink is counted, and logged at most once per 10 s with the number of
 * failures since the last line.
 */
export class AuditTrail {
  private readonly logger = new Logger('CacheAudit');
  private recorded = 0;
  private failures = 0;
  private unreported = 0;
  private lastFailureLogAt = -Infinity;

  constructor(
    readonly sink: AuditSink,
    private readonly keyHashSecret: string | Buffer,
    /** Off: `record` does nothing (the default while RBAC is off and no `audit` option is given). */
    readonly enabled = true,
    private readonly clock: () => number = Date.now,
  ) {}

  record(input: AuditInput): void {
    if (!this.enabled) return;
    const record: AuditRecord = {
      time: new Date(this.clock()).toISOString(),
      actor: input.actor,
      actorKind: input.actorKind,
      action: input.action,
      namespace: input.namespace,
      ...(input.key !== undefined ? { keyHash: this.hash(input.namespace, input.key) } : {}),
      ...(input.tag !== undefined ? { tagHash: this.hash(input.namespace, input.tag) } : {}),
      outcome: input.outcome,
      ...(input.detail !== undefined ? { detail: input.detail } : {}),
    };
    this.recorded++;
    try {
      const written = this.sink.write(record);
      if (written !== undefined && typeof (written as Promise<void>).then === 'function') {
        (written as Promise<void>).then(undefined, (error: unknown) => this.failed(error));
      }
    } catch (error) {
      this.failed(error);
    }
  }

  /** HMAC-SHA256 (hex) of `"<namespace>\0<key>"`: what `keyHash` and `tagHash` hold. */
  hash(namespace: string, key: string): string {
    return createHmac('sha256', this.keyHashSecret).update(namespace).update('\u0000').update(key).digest('hex');
  }

  stats(): AuditStats {
    return { recorded: this.recorded, sinkFailures: this.failures };
  }

  private failed(error: unknown): void {
    this.failures++;
    this.unreported++;
    const now = this.clock();
    if (now - this.lastFailureLogAt < FAILURE_LOG_INTERVAL_MS) return;
    this.lastFailureLogAt = now;
    const count = this.unreported;
    this.unreported = 0;
    this.logger.error(`The audit sink failed ${count} time(s) since the last report (${this.failures} in all): ${describeError(error)}`);
  }
}
