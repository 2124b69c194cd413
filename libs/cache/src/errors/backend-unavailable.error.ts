import { CacheError } from './cache-error';

/** The backend could not carry out the operation (connection refused, timed out, closed…). */
export class BackendUnavailableError extends CacheError {
  readonly code = 'CACHE_BACKEND_UNAVAILABLE';

  constructor(
    readonly backend: string,
    readonly namespace: string,
    readonly operation: string,
    cause: unknown,
  ) {
    super(
      `Cache backend "${backend}" failed during ${operation} in namespace "${namespace}": ` +
        `${cause instanceof Error ? cause.message : String(cause)}`,
      { cause: withoutCommandArguments(cause) },
    );
  }
}

/**
 * ioredis attaches the failed command to its errors, arguments included: AUTH's password, SET's key
 * and value. Loggers print a cause's properties, so only the command's name is kept (also on the
 * reasons of an aborted transaction).
 */
function withoutCommandArguments(cause: unknown): unknown {
  const previous = (cause as { previousErrors?: unknown } | null)?.previousErrors;
  for (const error of [cause, ...(Array.isArray(previous) ? previous : [])]) {
    const command = (error as { command?: { name?: unknown; args?: unknown } } | null)?.command;
    if (command !== null && typeof command === 'object' && 'args' in command) {
      (error as { command: unknown }).command = { name: command.name };
    }
  }
  return cause;
}
