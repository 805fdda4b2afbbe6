import canonicalizeModule from 'canonicalize';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  actionFingerprint,
  buildApprovalPayload,
  canonicalJson,
  checkActionHash,
  computeActionHash,
  MAX_ACTION_BYTES,
} from './action.js';

// The RFC 8785 reference implementation (by one of the RFC's authors), used only as an oracle.
const reference = canonicalizeModule as unknown as (value: unknown) => string | undefined;

describe('canonicalJson (RFC 8785)', () => {
  it('equals the reference implementation on 2,000 random JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
        // -0 is written "0" by both; fast-check's jsonValue never yields NaN or Infinity.
        expect(canonicalJson(value)).toBe(reference(value));
      }),
      { numRuns: 2_000 },
    );
  });

  it('sorts keys by UTF-16 code units and prints numbers the ECMAScript way', () => {
    expect(
      canonicalJson({ b: [1, 'é', null], a: { d: true, c: 1e21 }, '\u00e9': 0.5, '\ud83d\ude00': 1, '\uffff': 2 }),
    ).toBe('{"a":{"c":1e+21,"d":true},"b":[1,"é",null],"é":0.5,"\ud83d\ude00":1,"\uffff":2}');
    expect(canonicalJson({ n: 12345678901234567890n })).toBe('{"n":12345678901234567890}');
  });

  it.each([
    ['a function', { f: () => 1 }, 'args.f'],
    ['undefined', { u: undefined }, 'args.u'],
    ['NaN', { n: [1, Number.NaN] }, 'args.n[1]'],
    ['a Date (its JSON form is not what would be hashed)', { when: new Date(0) }, 'args.when'],
    ['a Map', { m: new Map() }, 'args.m'],
  ])('refuses %s, naming the path', (_name, value, field) => {
    expect(() => canonicalJson(value)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', field }));
  });

  it('refuses a cycle and a nesting deep enough to exhaust the stack with a typed error', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(() => canonicalJson(deep)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('action hash', () => {
  const base = {
    decisionId: '7c1d2a34-5b6e-4f70-8a91-b2c3d4e5f607',
    tool: 'transfer_funds',
    args: { to: 'bob', amount: 25 },
    title: 'Send 25 to Bob',
    requestedAt: Date.UTC(2026, 11, 1),
    expiresAt: Date.UTC(2026, 11, 1, 0, 10),
    agent: { name: 'bot' },
  };

  it('binds the payload to its decision, tool, arguments, expiry and agent', () => {
    const p = buildApprovalPayload(base);
    expect(checkActionHash(p)).toBe('match');
    expect(p.action_hash).toBe(computeActionHash(p));
    for (const change of [{ tool: 'x' }, { args: { to: 'bob', amount: 26 } }, { decision_id: 'other' }]) {
      expect(checkActionHash({ ...p, ...change })).toBe('mismatch');
    }
    expect(checkActionHash({ ...p, expires_at: '2027-01-01T00:00:00.000Z' })).toBe('mismatch');
    expect(checkActionHash({ ...p, agent: undefined })).toBe('mismatch');
    // The agent-written title and summary are not part of the action.
    expect(checkActionHash({ ...p, title: 'anything' })).toBe('match');
  });

  it('refuses arguments over 64 KiB of canonical JSON', () => {
    const args = { blob: 'x'.repeat(MAX_ACTION_BYTES) };
    expect(() => buildApprovalPayload({ ...base, args })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', field: 'args' }),
    );
  });

  it('fingerprints as the first 8 hex digits in two groups', () => {
    const hash = `3f2a91c0${'ab'.repeat(28)}`;
    expect(actionFingerprint(hash)).toBe('3f2a 91c0');
    expect(actionFingerprint(`sha256:${hash.toUpperCase()}`)).toBe('3f2a 91c0');
    expect(actionFingerprint('3f2a')).toBeUndefined();
    expect(actionFingerprint(42)).toBeUndefined();
  });
});
