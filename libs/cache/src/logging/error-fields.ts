/**
 * How an error appears in a log line: by class name and stable code, never by its message, which
 * may quote a key, a value, a property name of a value, or a server's reply.
 */
export function errorName(error: unknown): string {
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === 'string' ? name : typeof error;
}

/** The error's stable code when it has one (else its name), and its cause's code or name: `CODE/Cause`. */
export function errorReason(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const cause = (error as { cause?: { code?: unknown; name?: unknown } } | null)?.cause;
  const causeCode = typeof cause?.code === 'string' ? cause.code : typeof cause?.name === 'string' ? cause.name : undefined;
  return [typeof code === 'string' ? code : errorName(error), causeCode].filter(Boolean).join('/');
}

/** `Name (CODE/Cause)`: the one description of an error that log lines carry. */
export function describeError(error: unknown): string {
  const name = errorName(error);
  const reason = errorReason(error);
  return reason === name ? name : `${name} (${reason})`;
}
