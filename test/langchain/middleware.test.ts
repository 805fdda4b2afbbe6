/**
 * approvalMiddleware in a real createAgent loop against the real local relay, with devices that
 * answer as scripted: the tool runs only when approved, with exactly the approved arguments.
 */
import { createAgent, createMiddleware, HumanMessage, toolRetryMiddleware } from 'langchain';
import { approvalMiddleware, type LangChainCallContext } from '@noxy-approval/langchain';
import { startLocalStack, type LocalStack } from '@noxy-approval/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { scriptedModel, textOf, toolMessagesSeen, transferTool, until } from './helpers.js';

let stack: LocalStack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const ask = new HumanMessage('Pay Bob 25.');

type Options = Omit<Parameters<typeof approvalMiddleware>[0], 'client' | 'identity'>;
/** A createAgent whose tools go through approvalMiddleware, asking the stack's identity. */
const gatedAgent = (
  model: ReturnType<typeof scriptedModel>,
  tool: ReturnType<typeof transferTool>['transfer'],
  options: Options,
) =>
  createAgent({
    model,
    tools: [tool],
    middleware: [approvalMiddleware({ client: stack!.client, identity: stack!.identity, ...options })],
  });
const decisions = () => stack!.relay.status().decisions.total;

describe('approvalMiddleware', () => {
  it('approved: the tool runs once with the approved args and its result reaches the model', async () => {
    stack = await startLocalStack({ devices: [{ answer: 'approve' }] });
    const { transfer, runs } = transferTool();
    const model = scriptedModel([{ name: 'transfer_funds', args: { to: 'bob', amount: 25 }, id: 'call_1' }]);
    const agent = gatedAgent(model, transfer, { gate: ['transfer_funds'] });
    const result = await agent.invoke({ messages: [ask] });
    expect(runs).toEqual([{ to: 'bob', amount: 25 }]);
    const [seen] = toolMessagesSeen(model);
    expect(textOf(seen!)).toBe('transferred 25 to bob (tx_1)');
    expect(seen!.status).not.toBe('error');
    expect(textOf(result.messages.at(-1)!)).toBe('done');
    // The phone was shown exactly this call, with the default title.
    expect(decisions()).toBe(1);
    const shown = stack.received[0]![0]!.payload as Record<string, unknown>;
    expect(shown).toMatchObject({ tool: 'transfer_funds', args: { to: 'bob', amount: 25 } });
    expect(shown.title).toBe('Run transfer_funds (to: "bob", amount: 25)');
  });

  it('rejected: the tool never runs and the model reads the rejection as an error ToolMessage', async () => {
    stack = await startLocalStack({ devices: [{ answer: 'reject' }] });
    const { transfer, runs } = transferTool();
    const model = scriptedModel([{ name: 'transfer_funds', args: { to: 'bob', amount: 25 }, id: 'call_1' }]);
    const agent = gatedAgent(model, transfer, { gate: true });
    await agent.invoke({ messages: [ask] });
    expect(runs).toEqual([]);
    const [seen] = toolMessagesSeen(model);
    expect(seen!.status).toBe('error');
    expect(seen!.tool_call_id).toBe('call_1');
    expect(seen!.name).toBe('transfer_funds');
    expect(textOf(seen!)).toContain('The user rejected "transfer_funds" on their device. Do not perform it');
  });

  it('expired: nobody answers within the TTL; the tool never runs and the model is told', async () => {
    stack = await startLocalStack({ devices: [{ answer: 'never' }] });
    const { transfer, runs } = transferTool();
    const model = scriptedModel([{ name: 'transfer_funds', args: { to: 'bob', amount: 25 }, id: 'call_1' }]);
    const agent = createAgent({
      model,
      tools: [transfer],
      middleware: [
        approvalMiddleware({ client: stack.client, identity: stack.identity, ttlSeconds: 1, gate: ['transfer_funds'] }),
      ],
    });
    await agent.invoke({ messages: [ask] });
    expect(runs).toEqual([]);
    const [seen] = toolMessagesSeen(model);
    expect(seen!.status).toBe('error');
    expect(textOf(seen!)).toContain('No answer arrived before the deadline');
    expect(textOf(seen!)).toContain('nothing was executed');
  });

  it('by predicate: a small transfer runs without any decision, a large one is asked', async () => {
    stack = await startLocalStack({ devices: [{ answer: 'approve' }] });
    const { transfer, runs } = transferTool();
    const seenCtx: LangChainCallContext[] = [];
    const middleware = approvalMiddleware({
      client: stack.client,
      identity: stack.identity,
      gate: {
        transfer_funds: (args, ctx) => {
          seenCtx.push(ctx);
          return Number(args.amount) > 100;
        },
      },
    });
    const small = scriptedModel([{ name: 'transfer_funds', args: { to: 'bob', amount: 25 }, id: 'call_s' }]);
    await createAgent({ model: small, tools: [transfer], middleware: [middleware] }).invoke({ messages: [ask] });
    expect(runs).toEqual([{ to: 'bob', amount: 25 }]);
    expect(decisions()).toBe(0);
    expect(seenCtx[0]!.toolCall?.id).toBe('call_s');

    const large = scriptedModel([{ name: 'transfer_funds', args: { to: 'bob', amount: 500 }, id: 'call_l' }]);
    await createAgent({ model: large, tools: [transfer], middleware: [middleware] }).invoke({ messages: [ask] });
    expect(runs).toEqual([
      { to: 'bob', amount: 25 },
      { to: 'bob', amount: 500 },
    ]);
    expect(decisions()).toBe(1);
  });

  it('tools not named in the gate run at once, without a decision', async () => {
    stack = await startLocalStack({ devices: [{ answer: 'never' }] });
    const { transfer, runs } = transferTool();
    const model = scriptedModel([{ name: 'transfer_funds', args: { to: 'bob', amount: 25 }, id: 'call_1' }]);
    const agent = gatedAgent(model, transfer, { gate: ['delete_account'] });
    await agent.invoke({ messages: [ask] });
    expect(runs).toHaveLength(1);
    expect(decisions()).toBe(0);
  });

  it('two parallel calls in one turn: two decisions, both on the phone before either is answered', async () => {
    stack = await startLocalStack({ devices: [{ answer: 'never' }] });
    const { transfer, runs } = transferTool();
    const model = scriptedModel([
      { name: 'transfer_funds', args: { to: 'bob', amount: 25 }, id: 'call_a' },
      { name: 'transfer_funds', args: { to: 'carol', amount: 40 }, id: 'call_b' },
    ]);
    const agent = gatedAgent(model, transfer, { gate: ['transfer_funds'] });
    const run = agent.invoke({ messages: [ask] });
    const inbox = stack.received[0]!;
    await until(() => inbox.length === 2, 10_000, 'both decisions at the device');
    expect(runs).toEqual([]);
    const byPayee = (to: string) =>
      inbox.find((d) => (d.payload as unknown as { args: TransferArgsLike }).args.to === to)!;
    await stack.devices[0]!.decide(byPayee('carol').decisionId, 'reject');
    await stack.devices[0]!.decide(byPayee('bob').decisionId, 'approve');
    await run;
    expect(runs).toEqual([{ to: 'bob', amount: 25 }]);
    expect(decisions()).toBe(2);
    const seen = toolMessagesSeen(model);
    expect(textOf(seen.find((m) => m.tool_call_id === 'call_a')!)).toContain('transferred 25 to bob');
    const refused = seen.find((m) => m.tool_call_id === 'call_b')!;
    expect(refused.status).toBe('error');
    expect(textOf(refused)).toContain('The user rejected "transfer_funds"');
  });

  it("the tool gets the gate's copy of the approved args, whatever the model's object becomes", async () => {
    stack = await startLocalStack({ devices: [{ answer: 'never' }] });
    const { transfer, runs } = transferTool();
    let modelArgs: Record<string, unknown> | undefined;
    const spy = createMiddleware({
      name: 'ArgsSpy',
      wrapToolCall: (request, handler) => {
        modelArgs = request.toolCall.args;
        return handler(request);
      },
    });
    const model = scriptedModel([{ name: 'transfer_funds', args: { to: 'bob', amount: 25 }, id: 'call_1' }]);
    const agent = createAgent({
      model,
      tools: [transfer],
      middleware: [spy, approvalMiddleware({ client: stack.client, identity: stack.identity, gate: true })],
    });
    const run = agent.invoke({ messages: [ask] });
    await until(() => stack!.received[0]!.length === 1, 10_000, 'the decision at the device');
    // A bug or an injection changes the call after the human was asked: it must not run so.
    modelArgs!.amount = 2500;
    await stack.devices[0]!.decide(stack.received[0]![0]!.decisionId, 'approve');
    await run;
    expect(runs).toEqual([{ to: 'bob', amount: 25 }]);
  });

  it('a retried call (toolRetryMiddleware, same tool call id) makes no second decision and runs no more', async () => {
    stack = await startLocalStack({ devices: [{ answer: 'approve' }] });
    const { transfer, runs } = transferTool({ failFirst: true });
    const model = scriptedModel([{ name: 'transfer_funds', args: { to: 'bob', amount: 25 }, id: 'call_1' }]);
    const agent = createAgent({
      model,
      tools: [transfer],
      middleware: [
        // Outermost: a retry re-enters the approval middleware with the same tool call.
        toolRetryMiddleware({ maxRetries: 2, initialDelayMs: 0, jitter: false }),
        approvalMiddleware({ client: stack.client, identity: stack.identity, gate: ['transfer_funds'] }),
      ],
    });
    await agent.invoke({ messages: [ask] });
    expect(decisions()).toBe(1);
    expect(stack.received[0]).toHaveLength(1);
    // The approval covered one execution; it failed, and the retries were refused, not re-asked.
    expect(runs).toEqual([{ to: 'bob', amount: 25 }]);
    const [seen] = toolMessagesSeen(model);
    expect(textOf(seen!)).toContain('already used for its one execution');
  });

  it('routes by the run context: the resolver sees context, configurable and the tool call', async () => {
    stack = await startLocalStack({ devices: [{ answer: 'approve' }] });
    const { transfer, runs } = transferTool();
    const seen: LangChainCallContext<{ userEmail: string }>[] = [];
    const model = scriptedModel([{ name: 'transfer_funds', args: { to: 'bob', amount: 25 }, id: 'call_1' }]);
    const middleware = approvalMiddleware<{ userEmail: string }>({
      client: stack.client,
      identity: (ctx) => {
        seen.push(ctx);
        return ctx.context!.userEmail;
      },
      gate: ['transfer_funds'],
    });
    const agent = createAgent({ model, tools: [transfer], middleware: [middleware] });
    await agent.invoke(
      { messages: [ask] },
      { context: { userEmail: stack.identity as string }, configurable: { thread_id: 'thread-7' } },
    );
    expect(runs).toHaveLength(1);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.context).toEqual({ userEmail: 'alice@example.com' });
    expect(seen[0]!.configurable?.thread_id).toBe('thread-7');
    expect(seen[0]!.toolCall).toMatchObject({ id: 'call_1', name: 'transfer_funds' });

    // Another user (no device paired) is asked on their own account: nothing runs for Alice's approval.
    const model2 = scriptedModel([{ name: 'transfer_funds', args: { to: 'bob', amount: 25 }, id: 'call_2' }]);
    const agent2 = createAgent({ model: model2, tools: [transfer], middleware: [middleware] });
    await agent2.invoke({ messages: [ask] }, { context: { userEmail: 'mallory@example.com' } });
    expect(runs).toHaveLength(1);
    expect(textOf(toolMessagesSeen(model2)[0]!)).toContain('NO_DEVICES');
  });

  it('refuses a malformed gate at creation, naming the field', () => {
    const client = { ttlSeconds: 600 } as never;
    expect(() => approvalMiddleware({ client, identity: 'alice@example.com', gate: 'all' as never })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', field: 'gate' }),
    );
    expect(() =>
      approvalMiddleware({ client, identity: 'alice@example.com', gate: { transfer_funds: false as never } }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', field: 'gate.transfer_funds' }));
  });
});

interface TransferArgsLike {
  to: string;
}
