/**
 * Threat: someone who can write to Redis plants a compression "bomb" under a key of a compressed
 * namespace: a payload under the namespace's size limit (here 1 MiB) that inflates to about 1 GB.
 * Decompression is bounded by `maxValueBytes`: the read stops there, answers a miss, drops the entry,
 * and the process's peak memory grows by a few MiB, not a gigabyte. Measured in a process of its own.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

describe('a compression bomb planted in Redis', () => {
  it('is a miss and dropped on every read path, and never inflated past maxValueBytes', () => {
    const child = spawnSync(
      process.execPath,
      ['-r', join(__dirname, '../support/register-ts.js'), join(__dirname, 'compression-bomb.child.ts')],
      { encoding: 'utf8', timeout: 120_000 },
    );
    if (child.status !== 0) throw new Error(`the bomb scenario failed: ${child.stderr || child.error}`);
    const figures = JSON.parse(child.stdout.trim().split('\n').pop()!);
    // The planted payload is within the stored-payload limit and is a real bomb (about 1000× inflation).
    expect(figures.storedBytes).toBeLessThanOrEqual(1024 * 1024);
    expect(figures.inflatedBytes).toBeGreaterThan(900 * 1024 * 1024);
    // Single get, batched gets, mget: each a miss, each entry deleted.
    expect(figures.answers).toEqual(['miss', 0, 'miss', 0, 'miss', 0]);
    expect(figures.unreadableDropped).toBe(3);
    expect(figures.goodRead).toBe(true);
    // Inflating it would take ~1 GB; the bounded read stays far below.
    expect(figures.growthMB).toBeLessThan(100);
  }, 130_000);
});
