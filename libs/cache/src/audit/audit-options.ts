import { AuditSink } from './audit-sink';

/** `audit` module options. */
export interface AuditOptions {
  /** Default: on when `rbac.enabled` is true or an `audit` object is given, off otherwise. */
  enabled?: boolean;
  /** Where records go. Default `LoggerAuditSink` (JSON lines through Nest's logger). */
  sink?: AuditSink;
  /**
   * Secret of the key hashes (HMAC-SHA256), at least 16 characters. Keys are often guessable
   * (`user:42`): a keyed hash cannot be reversed by hashing candidates without the secret. Give every
   * instance of a deployment the same secret so their records correlate. Default: a random secret
   * per process (hashes then compare only within one process).
   */
  keyHashSecret?: string;
}
