import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseStrictJson } from './json-strict.js';

describe('parseStrictJson', () => {
  it('agrees with JSON.parse on valid JSON, except that unsafe integers are exact bigints (2,000 cases)', () => {
    const bigints = (_k: string, v: unknown) =>
      typeof v === 'number' && !Number.isSafeInteger(v) && /^-?\d+$/.test(String(v)) ? BigInt(String(v)) : v;
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const text = JSON.stringify(v);
        expect(parseStrictJson(text)).toEqual(JSON.parse(text, bigints));
      }),
      { numRuns: 2_000 },
    );
  });

  it('refuses duplicate keys without quoting them', () => {
    expect(() => parseStrictJson('{"to":"alice","to":"mallory"}')).toThrowError(/duplicate key at offset/);
    try {
      parseStrictJson('{"secret_key":1,"secret_key":2}');
    } catch (e) {
      expect((e as Error).message).not.toContain('secret_key');
    }
  });

  it('keeps integers beyond 2^53 exact as bigint', () => {
    expect(parseStrictJson('{"wei":12345678901234567890,"small":42,"f":1.5}')).toEqual({
      wei: 12345678901234567890n,
      small: 42,
      f: 1.5,
    });
  });

  it('treats __proto__ as an ordinary key', () => {
    const v = parseStrictJson('{"__proto__":{"polluted":true}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses malformed input and excessive nesting', () => {
    for (const bad of ['', '{', '[1,]', '{"a" 1}', '"\u0001"', '01', '1 2', "{'a':1}", '"\\x"', 'nul']) {
      expect(() => parseStrictJson(bad), bad).toThrowError(/not valid JSON/);
    }
    expect(() => parseStrictJson('['.repeat(65) + ']'.repeat(65))).toThrowError(/nesting deeper than 64/);
    expect(parseStrictJson('['.repeat(64) + ']'.repeat(64))).toBeDefined();
  });
});
