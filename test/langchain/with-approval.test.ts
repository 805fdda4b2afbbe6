/**
 * withApproval in a createAgent loop against the real local relay: same name, description and
 * schema; the inner tool runs only through core's gate.
 */
import { createAgent, HumanMessage, ToolMessage } from 'langchain';
import { withApproval } from '@noxy-approval/langchain';
import { startLocalStack, type LocalStack } from '@noxy-approval/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { scriptedModel, textOf, toolMessagesSeen, transferTool } from './helpers.js';

let stack: LocalStack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const ask = new HumanMessage('Pay Bob 25.');
const decisions = () => stack!.relay.status().decisions.total;
const bobCall = { name: 'transfer_funds', args: { to: 'bob', amount: 25 }, id: 'call_1' };

describe('withApproval', () => {
  it('keeps the name, description and schema of the inner tool', async () => {
    stack = await startLocalStack();
    const { transfer } = transferTool();
    const wrapped = withApproval(transfer, { client: stack.client, identity: stack.identity });
    expect(wrapped.name).toBe('transfer_funds');
    expect(wrapped.description).toBe(transfer.description);
    expect(wrapped.schema).toBe(transfer.schema);
  });

  it('approved: the inner tool runs once with the approved args; its result reaches the model', async () => {
    stack = await startLocalStack({ devices: [{ answer: 'approve' }] });
    const { transfer, runs } = transferTool();
    const model = scriptedModel([bobCall]);
    const wrapped = withApproval(transfer, {
      client: stack.client,
      identity: stack.identity,
      title: (args) => `Send ${String(args.amount)} to ${String(args.to)}`,
      summary: 'Paying the invoice the user asked for.',
    });
    await createAgent({ model, tools: [wrapped] }).invoke({ messages: [ask] });
    expect(runs).toEqual([{ to: 'bob', amount: 25 }]);
    const [seen] = toolMessagesSeen(model);
    expect(textOf(seen!)).toBe('transferred 25 to bob (tx_1)');
    expect(seen!.status).not.toBe('error');
    expect(stack.received[0]![0]!.payload).toMatchObject({
      title: 'Send 25 to bob',
      summary: 'Paying the invoice the user asked for.',
    });
  });

  it('rejected: the inner tool never runs; the model reads the rejection', async () => {
    stack = await startLocalStack({ devices: [{ answer: 'reject' }] });
    const { transfer, runs } = transferTool();
    const model = scriptedModel([bobCall]);
    const wrapped = withApproval(transfer, { client: stack.client, identity: stack.identity });
    await createAgent({ model, tools: [wrapped] }).invoke({ messages: [ask] });
    expect(runs).toEqual([]);
    const [seen] = toolMessagesSeen(model);
    expect(seen!.status).toBe('error');
    expect(textOf(seen!)).toContain('The user rejected "transfer_funds"');
  });

  it('expired: the inner tool never runs; the model reads that nothing was executed', async () => {
    stack = await startLocalStack({ devices: [{ answer: 'never' }] });
    const { transfer, runs } = transferTool();
    const model = scriptedModel([bobCall]);
    const wrapped = withApproval(transfer, { client: stack.client, identity: stack.identity, ttlSeconds: 1 });
    await createAgent({ model, tools: [wrapped] }).invoke({ messages: [ask] });
    expect(runs).toEqual([]);
    expect(textOf(toolMessagesSeen(model)[0]!)).toContain('No answer arrived before the deadline');
  });

  it('when: a call the predicate lets through runs without any decision', async () => {
    stack = await startLocalStack({ devices: [{ answer: 'never' }] });
    const { transfer, runs } = transferTool();
    const model = scriptedModel([bobCall]);
    const wrapped = withApproval(transfer, {
      client: stack.client,
      identity: stack.identity,
      when: (args) => Number(args.amount) > 100,
    });
    await createAgent({ model, tools: [wrapped] }).invoke({ messages: [ask] });
    expect(runs).toEqual([{ to: 'bob', amount: 25 }]);
    expect(decisions()).toBe(0);
    expect(textOf(toolMessagesSeen(model)[0]!)).toBe('transferred 25 to bob (tx_1)');
  });

  it('a retried call with the same tool call id makes no second decision and does not run again', async () => {
    stack = await startLocalStack({ devices: [{ answer: 'approve' }] });
    const { transfer, runs } = transferTool();
    const wrapped = withApproval(transfer, { client: stack.client, identity: stack.identity });
    const call = { ...bobCall, type: 'tool_call' as const };
    const first = await wrapped.invoke(call);
    const again = await wrapped.invoke(call);
    expect(decisions()).toBe(1);
    expect(runs).toHaveLength(1);
    expect(ToolMessage.isInstance(first) && textOf(first)).toBe('transferred 25 to bob (tx_1)');
    expect(ToolMessage.isInstance(again) && again.status).toBe('error');
    expect(textOf(again as ToolMessage)).toContain('already used for its one execution');
  });

  it('invoked with plain arguments (no tool call), answers with the text', async () => {
    stack = await startLocalStack({ devices: [{ answer: 'reject' }] });
    const { transfer, runs } = transferTool();
    const wrapped = withApproval(transfer, { client: stack.client, identity: stack.identity });
    const out = await wrapped.invoke({ to: 'bob', amount: 25 });
    expect(runs).toEqual([]);
    expect(out).toContain('The user rejected "transfer_funds"');
  });
});
