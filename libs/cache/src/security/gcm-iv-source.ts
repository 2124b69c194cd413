import { randomFillSync } from 'node:crypto';

const COUNTER_LIMIT = 0xffff_ffff;

/**
 * 96-bit GCM nonces that never repeat under one key in this process, after NIST SP 800-38D 8.2.1
 * (deterministic construction): 8 random bytes fixed for a run of the counter, then a 32-bit
 * counter. Within a run every nonce is distinct by construction; when the counter is exhausted a new
 * random field is drawn. Across processes the only risk is two starts drawing the same field, about
 * s²/2^65 for s starts (3e-14 after a thousand), however many values are written; random 96-bit
 * nonces would add risk with every write instead (m²/2^97), and cost a call into the random source.
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
