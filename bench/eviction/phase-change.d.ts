/** A spliced trace: accesses `keys[ids[i]]` in order, and where each phase starts and ends; see phase-change.js. */
export interface PhaseChangeTrace {
  name: string;
  ids: Int32Array;
  keys: string[];
  phases: { name: string; start: number; end: number }[];
}
/** The spliced phase-change traces by name, each a list of phases. */
export const PHASE_TRACES: Record<string, string[]>;
/** Accesses per phase, in units of the cache size. */
export const PHASE_LENGTH: number;
/** Builds the spliced trace `name` for a cache of `size` entries (deterministic for a seed). */
export function phaseChangeTrace(name: string, size: number, seed?: number): PhaseChangeTrace;
