/**
 * The LangChain middleware's own cost (issue #9): one gated tool call through
 * `approvalMiddleware`'s `wrapToolCall` (identity resolution, texts, progress, the tool call id
 * as idempotency key, the handler with the approved arguments, the ToolMessage) against core's
 * bare `runGated` around the same tool, with an instantly approving device on the local relay.
 * Interleaved in one run, sequential (the relay allows a device 20 messages/s), medians.
 * Target ≤ 1.1×. A whole `createAgent` turn (graph + fake model + middleware) is printed beside
 * it for scale.
 * @module
 */
import { performance } from 'node:perf_hooks';
import { tool } from '@langchain/core/tools';
import { createApprovalEngine, runGated } from '@noxy-approval/core';
import { approvalMiddleware } from '@noxy-approval/langchain';
import { startLocalStack } from '@noxy-approval/testing';
import { AIMessage, createAgent, fakeModel, HumanMessage, ToolMessage } from 'langchain';
import { z } from 'zod';
import { median, report } from './report.js';

const N = 40;
const args = { to: 'DE89 3704 0044 0532 0130 00', amount: 250, currency: 'EUR', memo: 'invoice #1042' };
type Args = typeof args;

const transfer = tool(async (a: Args) => `sent ${a.amount} ${a.currency}`, {
  name: 'transfer_funds',
  description: 'Send money.',
  schema: z.object({ to: z.string(), amount: z.number(), currency: z.string(), memo: z.string() }),
});

/** Runs the LangChain middleware benchmark. */
export async function benchLangchain(): Promise<void> {
  const stack = await startLocalStack({ devices: [{ answer: 'approve', delayMs: 0 }] });
  try {
    const identity = stack.identity;
    const engine = createApprovalEngine({ client: stack.client });
    const middleware = approvalMiddleware({ client: stack.client, identity, gate: ['transfer_funds'] });
    const wrap = middleware.wrapToolCall as unknown as (
      request: unknown,
      handler: (r: { toolCall: { id: string; name: string; args: Args } }) => Promise<unknown>,
    ) => Promise<unknown>;
    const handler = (r: { toolCall: { id: string; name: string; args: Args } }) =>
      transfer.invoke({ ...r.toolCall, type: 'tool_call' });
    const events: unknown[] = [];
    let id = 0;
    const viaMiddleware = async () => {
      const toolCall = { id: `call_${++id}`, name: 'transfer_funds', args, type: 'tool_call' as const };
      const runtime = { context: undefined, configurable: {}, writer: (e: unknown) => events.push(e) };
      const out = await wrap({ toolCall, tool: transfer, state: { messages: [] }, runtime }, handler);
      if (!ToolMessage.isInstance(out) || out.status === 'error') throw new Error('the middleware did not run it');
    };
    const bare = async () => {
      const toolCall = { id: `bare_${++id}`, name: 'transfer_funds', args, type: 'tool_call' as const };
      const request = { tool: 'transfer_funds', args, title: 'Pay invoice #1042' };
      const r = await runGated(engine, request, (a) => transfer.invoke({ ...toolCall, args: a }), { identity });
      if (r.status !== 'executed') throw new Error(`the gate did not run an approved call: ${r.status}`);
    };
    for (let i = 0; i < 8; i++) {
      await bare();
      await viaMiddleware();
    }

    const timesBare: number[] = [];
    const timesMw: number[] = [];
    for (let i = 0; i < N; i++) {
      // Alternate which goes first, so neither always follows the other's device answer.
      const order = i % 2 === 0 ? [bare, viaMiddleware] : [viaMiddleware, bare];
      for (const fn of order) {
        const t = performance.now();
        await fn();
        (fn === bare ? timesBare : timesMw).push(performance.now() - t);
      }
    }

    // For scale: a whole agent turn with one gated call (graph, fake model twice, middleware).
    const turns: number[] = [];
    for (let i = 0; i < 10; i++) {
      const model = fakeModel()
        .respondWithTools([{ name: 'transfer_funds', args, id: `turn_${i}` }])
        .respond(new AIMessage('done'));
      const agent = createAgent({ model, tools: [transfer], middleware: [middleware] });
      const t = performance.now();
      await agent.invoke({ messages: [new HumanMessage('pay')] });
      turns.push(performance.now() - t);
    }

    const bareMedian = median(timesBare);
    const mwMedian = median(timesMw);
    console.log(
      `      interleaved n=${N} each: bare runGated median ${bareMedian.toFixed(1)} ms, ` +
        `middleware median ${mwMedian.toFixed(1)} ms; whole createAgent turn median ${median(turns).toFixed(1)} ms`,
    );
    report({
      name: 'gated tool call through approvalMiddleware (instant device)',
      value: mwMedian,
      unit: 'ms',
      baseline: { label: "core's bare runGated, same tool", value: bareMedian },
      target: '≤ 1.1×',
      ok: mwMedian / bareMedian <= 1.1,
    });
  } finally {
    await stack.close();
  }
}
