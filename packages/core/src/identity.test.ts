import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inferIdentityType, parseIdentity } from './identity.js';

describe('parseIdentity', () => {
  it.each([
    ['0xAbCdEf0123456789aBcDeF0123456789AbCdEf01', 'wallet'],
    ['Alice.Smith+tag@Example.COM', 'email'],
    ['+15551234567', 'phone'],
    ['user-42', 'user_id'],
    ['ÄnneÜser', 'user_id'],
  ] as const)('%s is a %s, kept byte-exact', (id, type) => {
    expect(parseIdentity(id)).toEqual({ type, id });
    expect(parseIdentity({ type, id })).toEqual({ type, id });
  });

  it('never case-folds, trims or normalises (the relay and the devices key on the exact string)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 256 }), (id) => {
        let parsed: ReturnType<typeof parseIdentity>;
        try {
          parsed = parseIdentity({ type: 'user_id', id });
        } catch (err) {
          expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'identity.id' });
          return;
        }
        expect(parsed.id).toBe(id);
        expect(parsed.id.trim()).toBe(id);
        expect(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/u.test(id)).toBe(false);
      }),
      { numRuns: 2_000 },
    );
  });

  it('infers the kind of a bare string', () => {
    expect(inferIdentityType('0xab')).toBe('wallet');
    expect(inferIdentityType('a@b.c')).toBe('email');
    expect(inferIdentityType('+1')).toBe('phone');
    // Address-shaped strings are checked as addresses, so a typo is refused, not re-typed.
    expect(inferIdentityType('0x')).toBe('wallet');
    expect(inferIdentityType('0xZZ')).toBe('wallet');
    expect(() => parseIdentity('0xZZ00000000000000000000000000000000000000')).toThrow(/EVM address/);
  });
});
