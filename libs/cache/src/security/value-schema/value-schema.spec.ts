import 'reflect-metadata';
import { Type } from 'class-transformer';
import { Allow, IsDate, IsString, ValidateNested } from 'class-validator';
import { compileValueSchema } from './value-schema';

class Owner {
  @IsString()
  id!: string;
}

class Doc {
  @IsString()
  title!: string;

  @IsDate()
  updated!: Date;

  @ValidateNested() @Type(() => Owner)
  owner!: Owner;

  @Allow()
  note?: unknown;
}

describe('compileValueSchema', () => {
  const doc = { title: 'a', updated: new Date(0), owner: { id: 'o' }, note: { anything: 1 } };

  it('accepts a valid value (dates revived by the serializer, nested DTOs, @Allow fields) and null by default', () => {
    const check = compileValueSchema({ dto: Doc });
    expect(check(doc)).toBeUndefined();
    expect(check(null)).toBeUndefined();
  });

  it('names the failing property and rule, never the value', () => {
    const check = compileValueSchema({ dto: Doc });
    expect(check({ ...doc, title: 42 })).toBe('title: isString');
    expect(check({ ...doc, owner: { id: 7 } })).toBe('owner.id: isString');
    expect(check({ ...doc, role: 'admin' })).toBe('role: whitelistValidation');
    expect(check('secret text')).toBe('the value is not an object');
    expect(check([doc])).toBe('the value is not an object');
  });

  it('checks every element with each, and refuses null with nullable: false', () => {
    const check = compileValueSchema({ dto: Doc, each: true, nullable: false });
    expect(check([doc, doc])).toBeUndefined();
    expect(check([doc, { ...doc, updated: 'yesterday' }])).toBe('[1].updated: isDate');
    expect(check(doc)).toBe('the value is not an array');
    expect(check(null)).toBe('null is not accepted');
  });
});
