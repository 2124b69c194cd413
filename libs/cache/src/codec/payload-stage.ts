/**
 * One reversible step between the serializer's text and a text payload a store keeps. The codec runs
 * its stages in order on the way in and backwards on the way out: the seal (encryption on). Binary
 * payloads (compression, seals on bytes) are built by `payload-frame.ts` instead.
 */
export interface PayloadStage {
  /** Shown in logs. */
  readonly name: string;
  /**
   * On the way in: `input` (the serializer's text, or the previous stage's output) → this stage's
   * output. `context` is what the payload is bound to: its key, and for a tier's L2 payload also the
   * envelope's expiry times. The output is ASCII text (its length is its size in bytes).
   */
  wrap(input: string, context: string): string;
  /**
   * On the way out: undoes `wrap` for the entry stored under `key`. Throws `DecryptionFailedError`
   * for a payload this stage did not make for this entry (a tamper); any other error makes the entry
   * unreadable. Answers a `Rewrap` for a payload that reads but should be written again.
   */
  unwrap(payload: string, context: string, key: string): string | Rewrap;
}

/** A payload that reads, but should be rewritten (sealed with a key that is no longer the newest). */
export interface Rewrap {
  /** What `unwrap` gives back. */
  readonly text: string;
  /** The payload to write in its place. */
  rewrap(): string;
  /** The store replaced it: report it (`keyRotated`). */
  replaced(): void;
}
