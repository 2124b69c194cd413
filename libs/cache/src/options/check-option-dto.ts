import { validateSync, ValidationError } from 'class-validator';
import { OptionProblem } from '../errors/invalid-options.error';
import { SECRET_FIELDS } from './option-dtos';

/** Validates `value` against a class-validator DTO; each problem is recorded under `path` + field. */
export function check(dto: new () => object, value: object, path: string, problems: OptionProblem[]): void {
  const instance = Object.assign(new dto(), value);
  const errors = validateSync(instance, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: false });
  for (const error of errors) collect(error, path, value as Record<string, unknown>, problems);
}

function collect(error: ValidationError, path: string, source: Record<string, unknown>, problems: OptionProblem[]): void {
  const field = error.property;
  for (const [rule, message] of Object.entries(error.constraints ?? {})) {
    if (rule === 'whitelistValidation') {
      problems.push({ path: path + field, reason: 'is not a known option' });
      continue;
    }
    const reason = message.startsWith(field + ' ') ? message.slice(field.length + 1) : message;
    const got = SECRET_FIELDS.has(field) ? '' : ` (got ${describe(source[field])})`;
    problems.push({ path: path + field, reason: reason + got });
  }
}

export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 60));
  if (typeof value === 'function') return 'a function';
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}
