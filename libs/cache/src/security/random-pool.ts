import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;

/**
 * Random bytes handed out from a buffer refilled by `randomFillSync`, so that small draws (a CBC IV
 * per token) cost a copy instead of a call into the system's random source each. Bytes are never
 * handed out twice: the pool is refilled when spent.
 */
export class RandomPool {
  private readonly pool = Buffer.allocUnsafe(POOL_BYTES);
  private offset = POOL_BYTES;

  /** Copies `length` (≤ 4096) fresh random bytes into `into` at `at`. */
  fill(into: Buffer, at: number, length: number): void {
    if (this.offset + length > POOL_BYTES) {
      randomFillSync(this.pool);
      this.offset = 0;
    }
    this.pool.copy(into, at, this.offset, this.offset + length);
    this.offset += length;
  }
}
