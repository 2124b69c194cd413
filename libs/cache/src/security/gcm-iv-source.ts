import { randomFillSync } from 'node:crypto';

const COUNTER_LIMIT = 0xffff_ffff;

/**
 * 96-bit GCM nonces that never repeat under one key in this process, after NIST SP 800-38D 8.2.1
 * (deterministic construction): 8 random bytes fixed for a run of the counter, then a 32-bit
 * counter. Within a run every nonce is distinct by construction; when the counter is exhausted a new
 * random field is drawn. Another process (or a restart) draws its own field: two draws collide with
 * probability about n²/2^65 for n draws (about 1e-10 after a million restarts), against about
 * m²/2^97 for m random 96-bit nonces, which reaches the same risk after far fewer messages. It also
 * spares a call into the random source per encryption.
 */
export class GcmIvSource {
  private readonly field = Buffer.alloc(8);
  private counter = 0;

  constructor() {
    randomFillSync(this.field);
  }

  /** Writes the next 12-byte nonce at `offset` of `into`. */
  next(into: Buffer, offset: number): void {
    if (this.counter === COUNTER_LIMIT) {
      randomFillSync(this.field);
      this.counter = 0;
    }
    this.field.copy(into, offset);
    into.writeUInt32BE(this.counter++, offset + 8);
  }
}
