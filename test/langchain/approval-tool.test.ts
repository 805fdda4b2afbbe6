/**
 * createApprovalTool: the model asks first (request_human_approval), then acts; the answer
 * reaches the model as text and the application as the ToolMessage artifact.
 */
import { createAgent, HumanMessage, ToolMessage } from 'langchain';
import {
  APPROVAL_TOOL_DESCRIPTION,
  APPROVAL_TOOL_NAME,
  approvalInputSchema,
  type ApprovalOutput,
} from '@noxy-approval/core';
import { createApprovalTool } from '@noxy-approval/langchain';
import { startLocalStack, type LocalStack } from '@noxy-approval/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeModel, AIMessage } from 'langchain';
import { textOf, toolMessagesSeen, transferTool } from './helpers.js';

let stack: LocalStack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const args = { to: 'bob', amount: 25 };
const askCall = {
  name: APPROVAL_TOOL_NAME,
  args: { tool: 'transfer_funds', args, title: 'Send 25 to Bob' },
  id: 'call_ask',
};

/** Asks, then (turn 2) transfers only if the tool message says approved, then answers. */
function askThenActModel() {
  return fakeModel()
    .respondWithTools([askCall])
    .respond((messages) => {
      const last = messages.at(-1)!;
      const approved = ToolMessage.isInstance(last) && (last.artifact as ApprovalOutput).outcome === 'approved';
      return approved
        ? new AIMessage({
            content: '',
            tool_calls: [{ name: 'transfer_funds', args, id: 'call_pay', type: 'tool_call' }],
          })
        : new AIMessage('I did not send the money.');
    })
    .respond(new AIMessage('done'));
}

describe('createApprovalTool', () => {
  it("has core's name, description and schema", async () => {
    stack = await startLocalStack();
    const approval = createApprovalTool({ client: stack.client, identity: stack.identity });
    expect(approval.name).toBe(APPROVAL_TOOL_NAME);
    expect(approval.description).toBe(APPROVAL_TOOL_DESCRIPTION);
    expect(approval.schema).toBe(approvalInputSchema);
  });

  it('approved: the model reads the approval, then the transfer runs once with those args', async () => {
    stack = await startLocalStack({ devices: [{ answer: 'approve' }] });
    const { transfer, runs } = transferTool();
    const model = askThenActModel();
    const approval = createApprovalTool({ client: stack.client, identity: stack.identity });
    await createAgent({ model, tools: [approval, transfer] }).invoke({ messages: [new HumanMessage('Pay Bob 25.')] });
    const [answer] = toolMessagesSeen(model, 1);
    expect(textOf(answer!)).toContain('The user approved "transfer_funds" on their device');
    expect(answer!.artifact).toMatchObject({ outcome: 'approved', tool: 'transfer_funds' });
    expect((answer!.artifact as ApprovalOutput).handle).toMatch(/^nxa1_/);
    expect(runs).toEqual([args]);
    expect(textOf(toolMessagesSeen(model, 2).at(-1)!)).toBe('transferred 25 to bob (tx_1)');
    expect(stack.received[0]![0]!.payload).toMatchObject({ tool: 'transfer_funds', args, title: 'Send 25 to Bob' });
  });

  it('rejected: the model reads the rejection and the transfer never runs', async () => {
    stack = await startLocalStack({ devices: [{ answer: 'reject' }] });
    const { transfer, runs } = transferTool();
    const model = askThenActModel();
    const approval = createApprovalTool({ client: stack.client, identity: stack.identity });
    await createAgent({ model, tools: [approval, transfer] }).invoke({ messages: [new HumanMessage('Pay Bob 25.')] });
    const [answer] = toolMessagesSeen(model, 1);
    expect(textOf(answer!)).toContain('The user rejected "transfer_funds" on their device');
    expect(answer!.artifact).toMatchObject({ outcome: 'rejected' });
    expect(runs).toEqual([]);
  });

  it('expired: the model reads that nobody answered, and nothing runs', async () => {
    stack = await startLocalStack({ devices: [{ answer: 'never' }] });
    const { transfer, runs } = transferTool();
    const model = askThenActModel();
    const approval = createApprovalTool({ client: stack.client, identity: stack.identity, ttlSeconds: 1 });
    await createAgent({ model, tools: [approval, transfer] }).invoke({ messages: [new HumanMessage('Pay Bob 25.')] });
    const [answer] = toolMessagesSeen(model, 1);
    expect(textOf(answer!)).toContain('No answer arrived before the deadline');
    expect(answer!.artifact).toMatchObject({ outcome: 'expired' });
    expect(runs).toEqual([]);
  });

  it('with holdMs, answers pending with the handle when the human is slower', async () => {
    stack = await startLocalStack({ devices: [{ answer: 'never' }] });
    const approval = createApprovalTool({ client: stack.client, identity: stack.identity, holdMs: 300 });
    const out = (await approval.invoke({ ...askCall, type: 'tool_call' })) as ToolMessage;
    const artifact = out.artifact as ApprovalOutput;
    expect(artifact.outcome).toBe('pending');
    expect(textOf(out)).toContain('NOT approved and nothing was executed');
    expect(textOf(out)).toContain(artifact.handle);
  });

  it('a model-written identity is refused by the schema, nobody is asked', async () => {
    stack = await startLocalStack({ devices: [{ answer: 'approve' }] });
    const approval = createApprovalTool({ client: stack.client, identity: stack.identity });
    await expect(approval.invoke({ ...askCall.args, identity: 'mallory@example.com' } as never)).rejects.toThrow(
      /did not match expected schema/,
    );
    expect(stack.relay.status().decisions.total).toBe(0);
  });
});
