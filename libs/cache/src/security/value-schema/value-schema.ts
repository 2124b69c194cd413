import { Type } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { findPrototypeKey } from '../../serialization/prototype-keys';

/**
 * `namespaces.x.valueSchema`: a class-validator DTO that every value read back from a byte-storing
 * backend (Redis, your own) must satisfy. A value that does not is a miss, and is deleted: an entry
 * written into the store by anything else than this app cannot reach the app's code.
 */
export interface ValueSchemaOptions {
  /** The DTO class. Nested objects need class-transformer's `@Type(() => Child)` and `@ValidateNested()`. */
  dto: Type<object>;
  /** The value is an array of DTOs. */
  each?: boolean;
  /** `null` (a cached absence) is accepted. Default true. */
  nullable?: boolean;
}

/** A compiled schema: returns undefined for a valid value, or why it is not (property names, never values). */
export type ValueSchemaCheck = (value: unknown) => string | undefined;

/**
 * Unknown properties are refused (whitelist + forbidNonWhitelisted): list every field, `@Allow()` if
 * unconstrained. Own `__proto__`, `constructor` and `prototype` properties are refused anywhere in the
 * value, `@Allow()` fields included, before class-transformer sees it: class-validator's whitelist
 * does not see them, and class-transformer would assign them onto the DTO instance.
 */
export function compileValueSchema(schema: ValueSchemaOptions): ValueSchemaCheck {
  const { dto, each = false, nullable = true } = schema;
  const one = (value: unknown, at: string): string | undefined => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return `${at || 'the value'} is not an object`;
    const unsafe = findPrototypeKey(value);
    if (unsafe !== undefined) {
      const rest = unsafe.slice('value'.length); // `.owner.__proto__`, `["odd key"]`…
      return `${at === '' && rest.startsWith('.') ? rest.slice(1) : at + rest}: prototypeKey`;
    }
    const errors = validateSync(plainToInstance(dto, value) as object, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
    return errors.length === 0 ? undefined : `${describe(errors, at)}`;
  };
  return (value) => {
    if (value === null) return nullable ? undefined : 'null is not accepted';
    if (!each) return one(value, '');
    if (!Array.isArray(value)) return 'the value is not an array';
    for (let i = 0; i < value.length; i++) {
      const problem = one(value[i], `[${i}]`);
      if (problem !== undefined) return problem;
    }
    return undefined;
  };
}

function describe(errors: ValidationError[], at: string): string {
  const first = errors[0];
  const path = `${at}${at ? '.' : ''}${first.property}`;
  if (first.constraints) return `${path}: ${Object.keys(first.constraints).join(', ')}`;
  return first.children && first.children.length > 0 ? describe(first.children, path) : `${path}: invalid`;
}
