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

describe('compileValueSchema refuses own __proto__, constructor and prototype properties', () => {
  // What a JSON parser makes of text written into the store by someone else: own properties with these names.
  const planted = (json: string): unknown => JSON.parse(json);
  const doc = '"title":"a","updated":{},"owner":{"id":"o"}';
  const withDate = (value: unknown): unknown => Object.assign(value as object, { updated: new Date(0) });

  it.each([
    ['a top-level __proto__', `{${doc},"__proto__":{"isAdmin":true}}`, '__proto__: prototypeKey'],
    ['a top-level constructor', `{${doc},"constructor":{"prototype":{"isAdmin":true}}}`, 'constructor: prototypeKey'],
    ['a top-level prototype', `{${doc},"prototype":{"isAdmin":true}}`, 'prototype: prototypeKey'],
    ['a __proto__ in a nested DTO', `{"title":"a","updated":{},"owner":{"id":"o","__proto__":{"isAdmin":true}}}`, 'owner.__proto__: prototypeKey'],
    ['a constructor inside an @Allow() field', `{${doc},"note":{"deep":[{"constructor":{"prototype":{"x":1}}}]}}`, 'note.deep[0].constructor: prototypeKey'],
  ])('%s', (_, json, problem) => {
    expect(compileValueSchema({ dto: Doc })(withDate(planted(json)))).toBe(problem);
  });

  it('names the element with each', () => {
    const check = compileValueSchema({ dto: Doc, each: true });
    const good = withDate(planted(`{${doc}}`));
    expect(check([good, withDate(planted(`{${doc},"__proto__":{}}`))])).toBe('[1].__proto__: prototypeKey');
    expect(check([good])).toBeUndefined();
  });
});
