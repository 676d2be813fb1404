import { describe, expect, it } from 'vitest';
import { canonicalJson, sha256 } from './canonical.js';

describe('canonicalJson', () => {
  it('sorts keys at every level and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
  });
  it('gives equal text for objects built in different key orders', () => {
    expect(canonicalJson({ x: 1, y: 2 })).toBe(canonicalJson({ y: 2, x: 1 }));
  });
  it('drops undefined members and refuses non-finite numbers', () => {
    expect(canonicalJson({ a: undefined, b: 2 })).toBe('{"b":2}');
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(/no JSON form/);
  });
});

describe('sha256', () => {
  it('matches the published test vector for "abc"', () => {
    expect(sha256('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('canonicalJson agrees with JSON.stringify on already-sorted values', () => {
  it('for strings needing escapes, nested arrays, nulls and numbers', () => {
    const value = { a: 'quote " and \\ and \n', b: [1, 2.5, -0.125, null, [true, false]], c: { d: 'é☃' } };
    expect(canonicalJson(value)).toBe(JSON.stringify(value));
    expect(JSON.parse(canonicalJson(value))).toEqual(value);
  });
  it('writes undefined array members as null, as JSON does', () => {
    expect(canonicalJson([1, undefined, 3])).toBe('[1,null,3]');
  });
});
