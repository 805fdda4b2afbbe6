/**
 * The agent side's safety rules, each given a second test independent of its first (issue 13
 * item 7): the gate's binding check, end to end through a real relay and device (the first
 * test uses a fake client), and the strictness of the approval tool schemas (unknown keys are
 * refused, not ignored).
 */
import {
  approvalInputSchema,
  checkApprovalInputSchema,
  computeActionHash,
  createApprovalEngine,
  executeApproved,
  NoxyError,
} from '@noxy-approval/core';
import { startLocalStack, type LocalStack } from '@noxy-approval/testing';
import { afterEach, describe, expect, it } from 'vitest';

const identity = 'alice@example.com';
let stack: LocalStack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

describe("the gate's binding check, through a real relay and device", () => {
  it('runs the approved call only: a changed nested argument or tool is not executed', async () => {
    stack = await startLocalStack({ identity });
    const engine = createApprovalEngine({ client: stack.client, agent: { name: 'safety', host: 'h' }, ttlSeconds: 60 });
    const args = { to: 'bob', amount: 25, memo: { tags: ['rent'], note: 'June' } };
    const approval = await engine.request({ tool: 'transfer_funds', args, title: 'Send 25 to Bob' }, { identity });
    expect(approval.outcome).toBe('approved');
    // What the device was shown is what the approval is bound to.
    const seen = stack.received[0]![0]!.payload as { action_hash?: unknown };
    expect(seen.action_hash).toBe(approval.actionHash);

    const runs: unknown[] = [];
    const action = (a: Record<string, unknown>) => {
      runs.push(a);
      return 'done';
    };
    const nested = { ...args, memo: { tags: ['rent', 'deposit'], note: 'June' } };
    const changed = await executeApproved(engine, approval, { tool: 'transfer_funds', args: nested }, action);
    expect(changed).toMatchObject({ status: 'not_executed', reason: 'action_mismatch' });
    if (changed.status === 'not_executed') {
      expect(changed.attemptedActionHash).toBe(
        computeActionHash({
          decision_id: approval.decisionId,
          tool: 'transfer_funds',
          args: nested,
          expires_at: approval.expiresAt,
          agent: approval.agent,
        }),
      );
    }
    const otherTool = await executeApproved(engine, approval, { tool: 'transfer_fundz', args }, action);
    expect(otherTool).toMatchObject({ status: 'not_executed', reason: 'action_mismatch' });
    expect(runs).toEqual([]);
    // The same arguments in another key order are the same action (canonical JSON): it runs once.
    const reordered = { memo: { note: 'June', tags: ['rent'] }, amount: 25, to: 'bob' };
    const ran = await executeApproved(engine, approval, { tool: 'transfer_funds', args: reordered }, action);
    expect(ran).toMatchObject({ status: 'executed', result: 'done' });
    expect(runs).toEqual([reordered]);
  });
});

describe('the approval tool schemas stay strict', () => {
  const valid = { tool: 'transfer_funds', args: { to: 'bob' }, title: 'Send to Bob' };

  it('refuse unknown top-level keys instead of dropping them', () => {
    expect(approvalInputSchema.safeParse(valid).success).toBe(true);
    for (const extra of [{ approved: true }, { decision_id: 'x' }, { expires_at: '2030-01-01T00:00:00Z' }]) {
      const r = approvalInputSchema.safeParse({ ...valid, ...extra });
      expect(r.success, JSON.stringify(extra)).toBe(false);
    }
    const id = '0b0e9c4e-8a53-4d55-9b8c-6a3c1f8f2a10';
    expect(checkApprovalInputSchema.safeParse({ decision_id: id }).success).toBe(true);
    expect(checkApprovalInputSchema.safeParse({ decision_id: id, outcome: 'approved' }).success).toBe(false);
  });

  it('an engine request with an unknown key is refused with a typed error and asks no one', async () => {
    stack = await startLocalStack({ identity });
    const engine = createApprovalEngine({ client: stack.client, ttlSeconds: 60 });
    let caught: unknown;
    try {
      await engine.request({ ...valid, approved: true } as typeof valid, { identity });
    } catch (error) {
      caught = error;
    }
    expect(NoxyError.isInstance(caught)).toBe(true);
    expect((caught as NoxyError).code).toBe('INVALID_ARGUMENT');
    expect((caught as Error).message).toContain('approved');
    expect(stack.relay.status().decisions.total).toBe(0);
    expect(stack.received[0]).toEqual([]);
  });
});
