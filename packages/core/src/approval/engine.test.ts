import { describe, expect, it } from 'vitest';
import { NoxyError } from '../errors.js';
import { fakeClient } from '../test-support/fake-client.js';
import { createApprovalEngine } from './engine.js';

const identity = 'alice@example.com';
const input = { tool: 'transfer_funds', args: { to: 'bob', amount: 25 }, title: 'Send 25 to Bob' };

describe('approval engine', () => {
  it('counts the time spent sending against the hold, so the whole call stays within it', async () => {
    const f = fakeClient({ sendMs: 3_000, outcome: 'pending' });
    const engine = createApprovalEngine({ client: f.client, clock: f.clock });
    const r = await engine.requestApproval(input, { identity, holdMs: 45_000 });
    expect(r.outcome).toBe('pending');
    expect(f.waits[0]!.maxWaitMs).toBe(42_000);
  });

  it("uses the client's TTL unless told otherwise, and refuses a bad one", async () => {
    const f = fakeClient({ ttlSeconds: 60 });
    await createApprovalEngine({ client: f.client, clock: f.clock }).requestApproval(input, { identity });
    expect(f.sends[0]!.ttlSeconds).toBe(60);
    expect(() => createApprovalEngine({ client: f.client, ttlSeconds: Number.NaN })).toThrow(/ttlSeconds/);
  });

  it('reports an approval once; a later check says it was already reported', async () => {
    const f = fakeClient({ outcome: 'approved' });
    const engine = createApprovalEngine({ client: f.client, clock: f.clock });
    const first = await engine.requestApproval(input, { identity });
    expect(first.alreadyReported).toBeUndefined();
    const again = await engine.checkApproval({ decision_id: first.decisionId }, { identity });
    expect(again).toMatchObject({ outcome: 'approved', alreadyReported: true });
    expect(again.message).toContain('do not perform the action again');
    expect(f.waits).toHaveLength(1); // the check did not ask the relay again
  });

  it('refuses a top-level "__proto__" argument instead of silently dropping it', async () => {
    const f = fakeClient();
    const engine = createApprovalEngine({ client: f.client, clock: f.clock });
    const args = JSON.parse('{"cmd":"ls","__proto__":{"cmd":"rm -rf /"}}') as Record<string, unknown>;
    await expect(engine.requestApproval({ ...input, args }, { identity })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'args',
    });
    expect(f.sends).toHaveLength(0);
  });

  it("keeps the relay's reason when no device got the request", async () => {
    const f = fakeClient({ fail: new NoxyError('QUOTA_EXHAUSTED', 'RouteDecision failed: quota') });
    const engine = createApprovalEngine({ client: f.client, clock: f.clock });
    await expect(engine.requestApproval(input, { identity })).rejects.toMatchObject({ code: 'QUOTA_EXHAUSTED' });
  });

  it('refuses a check for another identity exactly like an unknown id', async () => {
    const f = fakeClient({ outcome: 'pending' });
    const engine = createApprovalEngine({ client: f.client, clock: f.clock });
    const r = await engine.requestApproval(input, { identity, holdMs: 1 });
    await expect(
      engine.checkApproval({ decision_id: r.decisionId }, { identity: 'mallory@example.com' }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it("asks with a private copy: changing the caller's object afterwards changes nothing sent", async () => {
    const f = fakeClient({ outcome: 'pending' });
    const engine = createApprovalEngine({ client: f.client, clock: f.clock });
    const args = { to: 'bob', nested: { amount: 25 } };
    const pending = engine.request({ ...input, args }, { identity, holdMs: 1 });
    args.nested.amount = 2500;
    await pending;
    expect((f.sends[0]!.decision.args as typeof args).nested.amount).toBe(25);
  });

  it("appends the wrapper's pending hint, and says nothing of checking again without one", async () => {
    const f = fakeClient({ outcome: 'pending' });
    const plain = await createApprovalEngine({ client: f.client, clock: f.clock }).request(input, { identity });
    expect(plain.message).not.toMatch(/check/i);
    const hinted = createApprovalEngine({ client: f.client, clock: f.clock, pendingHint: (x) => `Check ${x.handle}.` });
    const r = await hinted.request(input, { identity });
    expect(r.message.endsWith(`Check ${r.handle}.`)).toBe(true);
  });

  it('carries what a gate needs: identity, agent, handle, hash and expiry', async () => {
    const f = fakeClient();
    const agent = { name: 'bot', host: 'h' };
    const r = await createApprovalEngine({ client: f.client, clock: f.clock, agent }).request(input, { identity });
    expect(r).toMatchObject({
      outcome: 'approved',
      identity: { type: 'email', id: identity },
      agent,
      tool: input.tool,
    });
    expect(r.actionHash).toBe(f.sends[0]!.decision.action_hash);
    expect(r.expiresAt).toBe(f.sends[0]!.decision.expires_at);
  });

  it('reports an approval first seen at or after the deadline as expired (fail closed)', async () => {
    const f = fakeClient({ outcome: 'approved', ttlSeconds: 60, waitMs: 60_000 });
    const r = await createApprovalEngine({ client: f.client, clock: f.clock }).request(input, { identity });
    expect(r.outcome).toBe('expired');
    expect(r.message).toContain('nothing was executed');
  });

  it('resumes by handle in another engine with the same secret (restart, replica), with no shared store', async () => {
    const handleSecret = 'the same secret in every replica';
    const f = fakeClient({ outcome: 'pending' });
    const first = await createApprovalEngine({ client: f.client, clock: f.clock, handleSecret }).request(input, {
      identity,
      owner: 'session:a',
    });
    f.answer('approved');
    const replica = createApprovalEngine({ client: f.client, clock: f.clock, handleSecret });
    const r = await replica.resume(first.handle, { identity, owner: 'session:a' });
    expect(r).toMatchObject({ outcome: 'approved', decisionId: first.decisionId, actionHash: first.actionHash });
    expect(f.waits.at(-1)).toMatchObject({ decisionId: first.decisionId, expiresAt: Date.parse(first.expiresAt) });
  });

  it('refuses unknown, foreign and forged references as NOT_FOUND without asking the relay', async () => {
    const handleSecret = 'the same secret in every replica';
    const f = fakeClient({ outcome: 'pending' });
    const engine = createApprovalEngine({ client: f.client, clock: f.clock, handleSecret });
    const r = await engine.request(input, { identity, owner: 'session:a' });
    const waits = f.waits.length;
    const forged = `${r.handle.slice(0, -2)}${r.handle.endsWith('AA') ? 'BB' : 'AA'}`;
    const attempts: [string, { identity: string; owner?: string }][] = [
      [r.handle, { identity, owner: 'session:b' }],
      [r.handle, { identity: 'mallory@example.com', owner: 'session:a' }],
      [r.decisionId, { identity, owner: 'session:b' }],
      [forged, { identity, owner: 'session:a' }],
      ['0b9a3c55-3a8e-4f51-9d7e-5b0f6f1f1c11', { identity, owner: 'session:a' }],
      ['relay-7f3c', { identity, owner: 'session:a' }],
    ];
    for (const [ref, ctx] of attempts) {
      await expect(engine.resume(ref, ctx)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(createApprovalEngine({ client: f.client, handleSecret }).resume(ref, ctx)).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
    }
    expect(f.waits).toHaveLength(waits);
  });

  it('reports a terminal outcome once when two resumes wait on the same decision', async () => {
    const f = fakeClient({ outcome: 'pending' });
    const engine = createApprovalEngine({ client: f.client, clock: f.clock });
    const r = await engine.request(input, { identity });
    f.answer('approved');
    const both = await Promise.all([engine.resume(r.handle, { identity }), engine.resume(r.decisionId, { identity })]);
    expect(both.map((x) => x.outcome)).toEqual(['approved', 'approved']);
    expect(both.filter((x) => x.alreadyReported)).toHaveLength(1);
  });

  describe("idempotency key (the model's tool call id)", () => {
    it('a retried step continues the first decision instead of asking again', async () => {
      const f = fakeClient({ outcome: 'pending' });
      const engine = createApprovalEngine({ client: f.client, clock: f.clock });
      const ctx = { identity, idempotencyKey: 'call_1', holdMs: 1 };
      const first = await engine.request(input, ctx);
      f.answer('approved');
      const retried = await engine.request(input, ctx);
      expect(f.sends).toHaveLength(1);
      expect(retried).toMatchObject({ outcome: 'approved', decisionId: first.decisionId });
      expect(retried.alreadyReported).toBeUndefined();
      // Once reported, a further retry says so: an approval covers one execution.
      expect(await engine.request(input, ctx)).toMatchObject({ outcome: 'approved', alreadyReported: true });
      expect(f.sends).toHaveLength(1);
    });

    it('a key whose decision expired makes a new decision (providers that reuse call ids)', async () => {
      const f = fakeClient({ outcome: 'approved' });
      const engine = createApprovalEngine({ client: f.client, clock: f.clock, ttlSeconds: 60 });
      const first = await engine.request(input, { identity, idempotencyKey: 'call_0' });
      f.clock.advance(60_000);
      const later = await engine.request(input, { identity, idempotencyKey: 'call_0' });
      expect(f.sends).toHaveLength(2);
      expect(later.decisionId).not.toBe(first.decisionId);
      expect(later.alreadyReported).toBeUndefined();
    });

    it('two attempts at once make one decision', async () => {
      const f = fakeClient({ outcome: 'approved', sendMs: 5 });
      const engine = createApprovalEngine({ client: f.client, clock: f.clock });
      const ctx = { identity, idempotencyKey: 'call_2' };
      const both = await Promise.all([engine.request(input, ctx), engine.request(input, ctx)]);
      expect(f.sends).toHaveLength(1);
      expect(both[0]!.decisionId).toBe(both[1]!.decisionId);
      expect(both.filter((r) => r.alreadyReported)).toHaveLength(1);
    });

    it('refuses the same key for other arguments, and scopes keys to owner and identity', async () => {
      const f = fakeClient({ outcome: 'pending' });
      const engine = createApprovalEngine({ client: f.client, clock: f.clock });
      await engine.request(input, { identity, idempotencyKey: 'k' });
      await expect(
        engine.request({ ...input, args: { to: 'eve', amount: 25 } }, { identity, idempotencyKey: 'k' }),
      ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'idempotencyKey' });
      await engine.request(input, { identity, owner: 'session:b', idempotencyKey: 'k' });
      await engine.request(input, { identity: 'bob@example.com', idempotencyKey: 'k' });
      expect(f.sends).toHaveLength(3);
    });
  });
});
