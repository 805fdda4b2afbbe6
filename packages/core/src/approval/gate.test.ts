import { describe, expect, it } from 'vitest';
import { NoxyError } from '../errors.js';
import { fakeClient, type FakeClientOptions } from '../test-support/fake-client.js';
import { createApprovalEngine } from './engine.js';
import { executeApproved, resumeGated, runGated } from './gate.js';

const identity = 'alice@example.com';
const agent = { name: 'bot', host: 'h' };
const request = () => ({ tool: 'transfer_funds', args: { to: 'bob', amount: 25 }, title: 'Send 25 to Bob' });

function setup(opts: FakeClientOptions = {}) {
  const f = fakeClient(opts);
  const engine = createApprovalEngine({ client: f.client, clock: f.clock, agent, ttlSeconds: 600 });
  const runs: Record<string, unknown>[] = [];
  const action = (args: Record<string, unknown>) => {
    runs.push(args);
    return { ok: true, amount: args.amount };
  };
  return { f, engine, runs, action };
}

describe('the approval gate', () => {
  it('runs once on approval, with a copy of exactly the approved arguments', async () => {
    const { f, engine, runs, action } = setup();
    const req = request();
    const result = runGated(engine, req, action, { identity });
    req.args.amount = 2500; // the model's object changes after the request: nothing follows it
    const r = await result;
    expect(r).toMatchObject({ status: 'executed', result: { ok: true, amount: 25 } });
    expect(runs).toEqual([{ to: 'bob', amount: 25 }]);
    expect(runs[0]).not.toBe(req.args);
    expect(f.sends).toHaveLength(1);
  });

  it('refuses arguments that differ from the approved ones (action_mismatch) and runs nothing', async () => {
    const { engine, runs, action } = setup();
    const approval = await engine.request(request(), { identity });
    const tampered = { tool: 'transfer_funds', args: { to: 'bob', amount: 2500 } };
    const r = await executeApproved(engine, approval, tampered, action);
    expect(r).toMatchObject({ status: 'not_executed', reason: 'action_mismatch' });
    expect(r.status === 'not_executed' && r.attemptedActionHash).not.toBe(approval.actionHash);
    expect(r.message).toContain('Nothing was executed');
    const otherTool = await executeApproved(engine, approval, { tool: 'delete_account', args: request().args }, action);
    expect(otherTool).toMatchObject({ status: 'not_executed', reason: 'action_mismatch' });
    expect(runs).toHaveLength(0);
    // The approval still covers the approved call.
    expect(await executeApproved(engine, approval, request(), action)).toMatchObject({ status: 'executed' });
  });

  it('does not run an approval observed after its expiry; reports it expired', async () => {
    const { f, engine, runs, action } = setup();
    const approval = await engine.request(request(), { identity });
    f.clock.advance(600_000); // now = expires_at
    const r = await executeApproved(engine, approval, request(), action);
    expect(r).toMatchObject({ status: 'not_executed', reason: 'expired' });
    expect(r.message).toContain('nothing was executed');
    expect(runs).toHaveLength(0);
  });

  it('does not run an approval that first arrived after the deadline', async () => {
    const { runs, action, engine } = setup({ outcome: 'approved', waitMs: 600_001 });
    const r = await runGated(engine, request(), action, { identity });
    expect(r).toMatchObject({ status: 'not_executed', reason: 'expired' });
    expect(runs).toHaveLength(0);
  });

  it('runs one approval exactly once when two executions race', async () => {
    const { engine, runs, action } = setup();
    const approval = await engine.request(request(), { identity });
    const results = await Promise.all([
      executeApproved(engine, approval, request(), action),
      executeApproved(engine, approval, request(), action),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['executed', 'not_executed']);
    expect(results.find((r) => r.status === 'not_executed')).toMatchObject({ reason: 'already_executed' });
    expect(runs).toHaveLength(1);
  });

  it('runs once when two resumes of one pending decision race', async () => {
    const { f, engine, runs, action } = setup({ outcome: 'pending' });
    const first = await runGated(engine, request(), action, { identity, holdMs: 1 });
    expect(first).toMatchObject({ status: 'not_executed', reason: 'pending' });
    f.answer('approved');
    const ref = first.approval.handle;
    const results = await Promise.all([
      resumeGated(engine, ref, request(), action, { identity }),
      resumeGated(engine, first.approval.decisionId, request(), action, { identity }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['executed', 'not_executed']);
    expect(runs).toHaveLength(1);
  });

  it.each(['rejected', 'expired', 'pending'] as const)('does not run on %s', async (outcome) => {
    const { engine, runs, action } = setup({ outcome });
    const r = await runGated(engine, request(), action, { identity, holdMs: 1_000 });
    expect(r).toMatchObject({ status: 'not_executed', reason: outcome });
    expect(r.message).toBe(r.approval.message);
    expect(runs).toHaveLength(0);
  });

  it('does not run when the relay fails or the wait is aborted: the error is thrown', async () => {
    const down = setup({ fail: new NoxyError('RELAY_UNAVAILABLE', 'relay down') });
    await expect(runGated(down.engine, request(), down.action, { identity })).rejects.toMatchObject({
      code: 'RELAY_UNAVAILABLE',
    });
    const aborted = setup({ waitError: new NoxyError('ABORTED', 'aborted') });
    await expect(runGated(aborted.engine, request(), aborted.action, { identity })).rejects.toMatchObject({
      code: 'ABORTED',
    });
    expect(down.runs.length + aborted.runs.length).toBe(0);
  });

  it('does not run on a resume by a foreign owner (NOT_FOUND, no relay call)', async () => {
    const { f, engine, runs, action } = setup({ outcome: 'pending' });
    const first = await runGated(engine, request(), action, { identity, owner: 'session:a', holdMs: 1 });
    f.answer('approved');
    const waits = f.waits.length;
    await expect(
      resumeGated(engine, first.approval.handle, request(), action, { identity, owner: 'session:b' }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(f.waits).toHaveLength(waits);
    expect(runs).toHaveLength(0);
  });
});
