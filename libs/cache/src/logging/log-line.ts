export type LogFields = Record<string, string | number | boolean | undefined>;

/**
 * One log line in a fixed shape, `event field=value field="value with spaces"`, so that every line
 * of the cache can be grepped and parsed the same way (logfmt), whatever LoggerService prints it.
 * Callers pass only names, counts and reasons: never keys, values or secrets.
 */
export function logLine(event: string, fields: LogFields): string {
  let line = event;
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const text = String(value);
    line += ` ${name}=${/^[\w.:/@-]+$/.test(text) ? text : JSON.stringify(text)}`;
  }
  return line;
}
