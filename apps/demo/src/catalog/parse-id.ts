import { BadRequestException } from '@nestjs/common';

const ID = /^[a-z0-9-]{1,64}$/;

/** Route ids become cache keys: accept only short lowercase ids, so no input can shape a key. */
export function parseId(value: string, what: string): string {
  if (!ID.test(value)) throw new BadRequestException(`${what} must be 1-64 lowercase letters, digits or "-"`);
  return value;
}
