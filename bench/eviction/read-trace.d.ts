/** Reads a gzip trace (one key per line); see read-trace.js. */
export function readTrace(file: string): { ids: Int32Array; keys: string[] };
