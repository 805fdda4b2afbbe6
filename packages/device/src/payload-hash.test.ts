import { checkActionHash, computeActionHash } from '@noxy-approval/core/portable';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseStrictJson } from './json-strict.js';

const payloadArb = fc.record({
  decision_id: fc.uuid(),
  tool: fc.string({ minLength: 1, maxLength: 20 }),
  args: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 }),
  expires_at: fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }).map((d) => d.toISOString()),
  agent: fc.option(fc.record({ name: fc.string(), host: fc.string() }), { nil: undefined }),
});

describe("the device's view of action_hash: core's checkActionHash over the strictly parsed payload", () => {
  it('matches core for payloads that went through JSON and the strict parser (1,000 cases)', () => {
    fc.assert(
      fc.property(payloadArb, (base) => {
        const clean = JSON.parse(JSON.stringify(base)) as typeof base;
        const payload = {
          v: 1,
          kind: 'propose_tool_call',
          ...clean,
          title: 't',
          action_hash: computeActionHash(clean),
        };
        // What the device sees: the decrypted text, strictly parsed.
        expect(checkActionHash(parseStrictJson(JSON.stringify(payload)))).toBe('match');
      }),
      { numRuns: 1_000 },
    );
  });

  it('detects a change to the tool, the arguments, the expiry or the agent', () => {
    const base = { decision_id: 'd', tool: 'rm', args: { path: '/tmp/x' }, expires_at: '2026-01-01T00:00:00.000Z' };
    const payload = { v: 1, kind: 'propose_tool_call', ...base, action_hash: computeActionHash(base) };
    expect(checkActionHash(payload)).toBe('match');
    expect(checkActionHash({ ...payload, tool: 'rmdir' })).toBe('mismatch');
    expect(checkActionHash({ ...payload, args: { path: '/' } })).toBe('mismatch');
    expect(checkActionHash({ ...payload, expires_at: '2027-01-01T00:00:00.000Z' })).toBe('mismatch');
    expect(checkActionHash({ ...payload, agent: { name: 'x', host: 'y' } })).toBe('mismatch');
    expect(checkActionHash({ ...payload, args: undefined })).toBe('mismatch');
    expect(checkActionHash({ title: 'x' })).toBe('absent');
    expect(checkActionHash({ action_hash: 'x' })).toBe('unverifiable');
  });
});
