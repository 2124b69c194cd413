import { AuditRecord } from './audit-record';

/**
 * Where audit records go (a log, a SIEM, a database). `write` may return a promise; it is never
 * awaited by the cache operation, and a sink that throws or rejects never fails it: the failure is
 * counted (`AuditTrail.stats().sinkFailures`) and logged at a bounded rate.
 */
export interface AuditSink {
  write(record: AuditRecord): void | Promise<void>;
}

/** Injection token of the active sink (`audit.sink`, or `LoggerAuditSink`). */
export const AuditSink = Symbol('AuditSink');
