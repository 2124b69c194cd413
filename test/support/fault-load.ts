/**
 * A bounded load for fault tests: workers that each run one operation at a time (closed loop, a short
 * pause between operations so timers and I/O keep running), until `stop()`, a deadline or an
 * iteration cap, whichever comes first. Every operation is recorded with its end time and outcome:
 * - `ok`: it did what it should (a step resolving `true` or nothing);
 * - `degraded`: it completed without failing the caller but not fully (a step resolving `false`,
 *   e.g. a tiered write that went to L1 only because L2 was unreachable);
 * - `failed`: it threw (the caller would have seen an error).
 * Errors are kept by message only (no values or keys: steps throw their own neutral messages).
 */
import { sleep } from './redis-server';

export type Outcome = 'ok' | 'degraded' | 'failed';

export interface LoadWorker {
  kind: string;
  step(iteration: number): Promise<boolean | void>;
}

export interface LoadLimits {
  /** Hard deadline for the whole load, from `startLoad`. */
  maxMs: number;
  /** Per worker. */
  maxIterations: number;
  /** Pause between two operations of one worker. */
  pauseMs: number;
}

export interface KindReport {
  ok: number;
  degraded: number;
  failed: number;
  /** Error message → count. */
  errors: Record<string, number>;
  /** Longest time (ms) in which no operation of this kind completed `ok`, over the whole load. */
  longestGapMs: number;
  /** Slowest single operation (ms). */
  maxLatencyMs: number;
}

export interface LoadReport {
  startedAt: number;
  stoppedAt: number;
  kinds: Record<string, KindReport>;
  /** End time of the first `ok` operation of `kind` that started after `t` (undefined if none). */
  firstOkStartedAfter(kind: string, t: number): number | undefined;
  /** How many operations of `kind` started within [from, to] and completed `ok`. */
  okStartedBetween(kind: string, from: number, to: number): number;
}

interface OpRecord {
  kind: string;
  start: number;
  end: number;
  outcome: Outcome;
}

export function startLoad(workers: LoadWorker[], limits: LoadLimits): { stop(): Promise<LoadReport> } {
  const startedAt = Date.now();
  const deadline = startedAt + limits.maxMs;
  const records: OpRecord[] = [];
  const errors = new Map<string, Map<string, number>>();
  let stopped = false;
  const running = workers.map(async (worker) => {
    for (let i = 0; i < limits.maxIterations && !stopped && Date.now() < deadline; i++) {
      const start = Date.now();
      let outcome: Outcome;
      try {
        outcome = (await worker.step(i)) === false ? 'degraded' : 'ok';
      } catch (error) {
        outcome = 'failed';
        const byMessage = errors.get(worker.kind) ?? new Map<string, number>();
        errors.set(worker.kind, byMessage);
        const message = error instanceof Error ? error.message : String(error);
        byMessage.set(message, (byMessage.get(message) ?? 0) + 1);
      }
      records.push({ kind: worker.kind, start, end: Date.now(), outcome });
      await sleep(limits.pauseMs);
    }
  });
  return {
    async stop() {
      stopped = true;
      await Promise.all(running);
      const stoppedAt = Date.now();
      const kinds: Record<string, KindReport> = {};
      for (const kind of new Set(workers.map((w) => w.kind))) {
        const mine = records.filter((r) => r.kind === kind);
        const okEnds = mine.filter((r) => r.outcome === 'ok').map((r) => r.end).sort((a, b) => a - b);
        let gap = 0;
        let previous = startedAt;
        for (const end of [...okEnds, stoppedAt]) {
          gap = Math.max(gap, end - previous);
          previous = end;
        }
        kinds[kind] = {
          ok: okEnds.length,
          degraded: mine.filter((r) => r.outcome === 'degraded').length,
          failed: mine.filter((r) => r.outcome === 'failed').length,
          errors: Object.fromEntries(errors.get(kind) ?? []),
          longestGapMs: gap,
          maxLatencyMs: mine.reduce((m, r) => Math.max(m, r.end - r.start), 0),
        };
      }
      return {
        startedAt,
        stoppedAt,
        kinds,
        firstOkStartedAfter(kind, t) {
          const found = records.filter((r) => r.kind === kind && r.outcome === 'ok' && r.start > t).map((r) => r.end);
          return found.length > 0 ? Math.min(...found) : undefined;
        },
        okStartedBetween(kind, from, to) {
          return records.filter((r) => r.kind === kind && r.outcome === 'ok' && r.start >= from && r.start <= to).length;
        },
      };
    },
  };
}
