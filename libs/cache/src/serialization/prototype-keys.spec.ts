import { findPrototypeKey, isPrototypeKey } from './prototype-keys';

describe('findPrototypeKey', () => {
  it('finds an own __proto__, constructor or prototype property anywhere, with its path', () => {
    expect(findPrototypeKey(JSON.parse('{"a":1,"__proto__":{}}'))).toBe('value.__proto__');
    expect(findPrototypeKey({ list: [1, { constructor: 1 }] })).toBe('value.list[1].constructor');
    expect(findPrototypeKey(new Map([['k', { prototype: 1 }]]))).toBe('value[Map entry 0].value.prototype');
    expect(findPrototypeKey(new Map([[JSON.parse('{"__proto__":1}'), 1]]))).toBe('value[Map entry 0].key.__proto__');
    expect(findPrototypeKey(new Set([{}, JSON.parse('{"__proto__":1}')]))).toBe('value[Set entry 1].__proto__');
    const hidden = {};
    Object.defineProperty(hidden, 'constructor', { value: 1, enumerable: false });
    expect(findPrototypeKey({ hidden })).toBe('value.hidden.constructor');
  });

  it('passes plain data, inherited constructors, and such names as strings or Map keys', () => {
    class Doc { title = 'a'; }
    expect(findPrototypeKey({ doc: new Doc(), at: new Date(0), re: /x/, bytes: Buffer.from('x'), names: ['__proto__'] })).toBeUndefined();
    expect(findPrototypeKey(new Map([['__proto__', 1], ['constructor', 2]]))).toBeUndefined();
    expect(findPrototypeKey('__proto__')).toBeUndefined();
    expect(findPrototypeKey(null)).toBeUndefined();
  });

  it('visits a shared or circular object once', () => {
    const shared: Record<string, unknown> = { x: 1 };
    shared.self = shared;
    let wide: unknown = shared;
    for (let i = 0; i < 64; i++) wide = [wide, wide]; // 2^64 paths, 65 objects
    expect(findPrototypeKey(wide)).toBeUndefined();
  });

  it('isPrototypeKey names exactly the three', () => {
    expect(['__proto__', 'constructor', 'prototype'].every(isPrototypeKey)).toBe(true);
    expect(['proto', 'Constructor', '__proto', 'prototypes'].some(isPrototypeKey)).toBe(false);
  });
});
