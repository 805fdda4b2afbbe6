import { describe, expect, it } from 'vitest';
import { findProtoKey } from './proto-key.js';

describe('findProtoKey', () => {
  it('finds an own "__proto__" key at any depth, in objects and arrays, and names its path', () => {
    expect(findProtoKey(JSON.parse('{"a":1,"__proto__":{}}'))).toBe('arguments.__proto__');
    expect(findProtoKey(JSON.parse('{"a":{"b":[1,{"__proto__":2}]}}'))).toBe('arguments.a.b[1].__proto__');
    expect(findProtoKey({ a: { b: [1, 2] }, c: 'x', constructor: 1 })).toBeUndefined();
    // An inherited __proto__ (every object has one) is not an own key.
    expect(findProtoKey({})).toBeUndefined();
  });

  it('walks deep nesting without recursion, and refuses what is too large to check', () => {
    let deep: unknown = JSON.parse('{"__proto__":1}');
    for (let i = 0; i < 10_000; i++) deep = { n: deep };
    expect(findProtoKey(deep)).toMatch(/^arguments(\.n){10000}\.__proto__$/);
    expect(findProtoKey(Array.from({ length: 200_000 }, () => 0))).toBe('arguments (too large to check)');
  });
});
