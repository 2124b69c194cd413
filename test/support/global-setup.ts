import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Gives this test run its own folder of redis-server PIDs; workers inherit the variable. */
export default function globalSetup(): void {
  process.env.NEST_CACHEKIT_REDIS_PID_DIR = mkdtempSync(join(tmpdir(), 'nest-cachekit-redis-pids-'));
}
