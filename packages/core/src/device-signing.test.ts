import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEVICE_SIGNING_DOMAINS,
  authenticateProofMessage,
  encodeSignedFields,
  outcomeMessage,
  payloadActionHash,
  registerProofMessage,
  rotationMessage,
  type SignedField,
} from './device-signing.js';

const wellFormed = (s: string) => !/\p{Cs}/u.test(s);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const field: fc.Arbitrary<SignedField> = fc.oneof(
  fc
    .string({ unit: 'binary', maxLength: 12 })
    .filter(wellFormed)
    .map((text) => ({ text })),
  fc.uint8Array({ maxLength: 12 }).map((bytes) => ({ bytes })),
  fc.nat().map((u64) => ({ u64 })),
);
const label = fc.oneof(
  fc.constantFrom(...Object.values(DEVICE_SIGNING_DOMAINS)),
  fc.string({ maxLength: 8 }).filter(wellFormed),
);
const statement = fc.tuple(label, fc.array(field, { maxLength: 6 }));
// Canonical form of a tuple: equal iff the tuples are equal.
const canonical = ([l, fs]: [string, SignedField[]]) =>
  JSON.stringify([l, fs.map((f) => ('text' in f ? ['t', f.text] : 'bytes' in f ? ['b', hex(f.bytes)] : ['u', f.u64]))]);

describe('device signing encodings', () => {
  it('are injective: distinct tuples never encode to the same bytes', () => {
    fc.assert(
      fc.property(statement, statement, (a, b) => {
        const same = hex(encodeSignedFields(...a)) === hex(encodeSignedFields(...b));
        expect(same).toBe(canonical(a) === canonical(b));
      }),
      { numRuns: 3000 },
    );
  });

  it('are injective on near-collisions: moving bytes between adjacent fields changes the encoding', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 }), fc.nat({ max: 10 }), (x, y, cut) => {
        const joined = x + y;
        const k = Math.min(cut, joined.length);
        const a = encodeSignedFields('l', [{ text: x }, { text: y }]);
        const b = encodeSignedFields('l', [{ text: joined.slice(0, k) }, { text: joined.slice(k) }]);
        expect(hex(a) === hex(b)).toBe(x === joined.slice(0, k) && y === joined.slice(k));
      }),
    );
  });

  it('separates statements: the same values under two statements never encode equal', () => {
    const keys = { publicKey: new Uint8Array(32).fill(1), pqPublicKey: new Uint8Array(1184).fill(2) };
    const frame = { appId: 'a', requestId: 'r', timestamp: 5, nonce: new Uint8Array(12), ...keys };
    const all = [
      authenticateProofMessage(frame),
      registerProofMessage({ ...frame, identityType: 'email', identityId: 'a@b.c', deviceType: 'desktop' }),
      rotationMessage({
        deviceId: 'a',
        identityId: 'r',
        oldPublicKey: keys.publicKey,
        newPublicKey: keys.publicKey,
        newPqPublicKey: keys.pqPublicKey,
        rotatedAt: 5,
      }),
      outcomeMessage({
        appId: 'a',
        identityId: 'r',
        decisionId: 'd',
        outcome: 'APPROVE',
        actionHash: '',
        decidedAt: 5,
      }),
    ].map(hex);
    expect(new Set(all).size).toBe(all.length);
  });

  it('binds the outcome: APPROVE and REJECT, and each field, sign different bytes', () => {
    const base = {
      appId: 'a',
      identityId: 'i',
      decisionId: 'd',
      outcome: 'APPROVE',
      actionHash: 'h',
      decidedAt: 1,
    } as const;
    const variants = [
      base,
      { ...base, outcome: 'REJECT' as const },
      { ...base, appId: 'b' },
      { ...base, identityId: 'j' },
      { ...base, decisionId: 'e' },
      { ...base, actionHash: 'g' },
      { ...base, decidedAt: 2 },
    ].map((v) => hex(outcomeMessage(v)));
    expect(new Set(variants).size).toBe(variants.length);
  });

  it('refuses a timestamp that is not a non-negative safe integer, naming it', () => {
    expect(() => encodeSignedFields('l', [{ u64: -1 }])).toThrow(/"field 0" expected a non-negative safe integer/);
    expect(() => encodeSignedFields('l', [{ text: 'x' }, { u64: 1.5 }])).toThrow(/"field 1"/);
    expect(() => encodeSignedFields('l', [{ text: 'a\ud800' }])).toThrow(/"field 0" expected well-formed Unicode/);
    expect(() => encodeSignedFields('l', [{ text: '\ud83d\ude00' }])).not.toThrow();
  });

  it('reads the payload action_hash as signed, or "" when there is none', () => {
    expect(payloadActionHash({ action_hash: 'sha256:ab' })).toBe('sha256:ab');
    expect(payloadActionHash({ action_hash: 5 })).toBe('');
    expect(payloadActionHash(['x'])).toBe('');
    expect(payloadActionHash(null)).toBe('');
  });
});
