import { readdirSync, readFileSync, rmSync } from 'node:fs';

/** Kills redis-server processes that a crashed test worker left behind (by recorded PID, never by name). */
export default function globalTeardown(): void {
  const dir = process.env.NEST_CACHEKIT_REDIS_PID_DIR;
  if (!dir) return;
  let pids: string[] = [];
  try {
    pids = readdirSync(dir);
  } catch {
    return;
  }
  for (const pid of pids) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('redis-server')) process.kill(Number(pid), 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  rmSync(dir, { recursive: true, force: true });
}
