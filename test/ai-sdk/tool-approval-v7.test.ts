/**
 * AI SDK 7's `toolApproval` answered on the user's device by `noxyToolApproval` — inside one
 * `generateText` / `streamText` call — against the real local relay.
 */
import { noxyToolApproval, noxyToolApprovalMap, type AiSdkCallContext } from '@noxy-approval/ai-sdk';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '@noxy-approval/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { sdk7 as sdk, toolResults, type GenResult } from './sdk.js';

const transferArgs = { to: 'DE89 3704 0044 0532 0130 00', amount: 250, currency: 'EUR' };

let stack: LocalStack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});
const start = async (options: LocalStackOptions) => {
  stack = await startLocalStack(options);
  return stack;
};

function tools() {
  const runs: { tool: string; input: Record<string, unknown>; frozen: boolean }[] = [];
  const make = (name: string) =>
    sdk.tool({
      description: name,
      inputSchema: z.object({ to: z.string(), amount: z.number(), currency: z.string() }),
      execute: async (input: Record<string, unknown>) => {
        runs.push({ tool: name, input, frozen: Object.isFrozen(input) });
        return { ok: name };
      },
    });
  return { runs, tools: { transfer_funds: make('transfer_funds'), read_balance: make('read_balance') } };
}

const denials = (r: Pick<GenResult, 'steps'>) =>
  r.steps.flatMap((s) =>
    s.content.filter((c) => c.type === 'tool-output-denied' || c.type === 'tool-approval-response'),
  );

describe('ai 7: noxyToolApproval in one generateText call', () => {
  it('approved: the tool runs in the same call, with the frozen input the human approved', async () => {
    const s = await start({ devices: [{ answer: 'approve' }] });
    const { runs, tools: t } = tools();
    const { model } = sdk.model([
      { calls: [{ id: 'v7-ok', name: 'transfer_funds', args: transferArgs }] },
      { text: 'paid' },
    ]);
    const r = await sdk.generateText({
      model,
      tools: t,
      prompt: 'pay',
      stopWhen: sdk.stepCountIs(3),
      toolApproval: noxyToolApproval({ client: s.client, identity: s.identity }),
    });
    expect(runs).toEqual([{ tool: 'transfer_funds', input: transferArgs, frozen: true }]);
    expect(s.received[0]).toHaveLength(1);
    expect(s.received[0]![0]!.payload).toMatchObject({ tool: 'transfer_funds', args: transferArgs });
    expect(r.text).toBe('paid');
  });

  it('rejected: denied with the text the model reads; the tool never runs', async () => {
    const s = await start({ devices: [{ answer: 'reject' }] });
    const { runs, tools: t } = tools();
    const { model, prompts } = sdk.model([
      { calls: [{ id: 'v7-no', name: 'transfer_funds', args: transferArgs }] },
      { text: 'ok' },
    ]);
    await sdk.generateText({
      model,
      tools: t,
      prompt: 'pay',
      stopWhen: sdk.stepCountIs(3),
      toolApproval: noxyToolApproval({ client: s.client, identity: s.identity }),
    });
    expect(runs).toEqual([]);
    const seen = JSON.stringify(prompts.at(-1));
    expect(seen).toContain('execution-denied');
    expect(seen).toContain('The user rejected');
  });

  it('expired (short TTL, nobody answers): denied, the tool never runs', async () => {
    const s = await start({ devices: [{ answer: 'never' }] });
    const { runs, tools: t } = tools();
    const { model, prompts } = sdk.model([
      { calls: [{ id: 'v7-exp', name: 'transfer_funds', args: transferArgs }] },
      { text: 'ok' },
    ]);
    await sdk.generateText({
      model,
      tools: t,
      prompt: 'pay',
      stopWhen: sdk.stepCountIs(3),
      toolApproval: noxyToolApproval({ client: s.client, identity: s.identity, ttlSeconds: 1 }),
    });
    expect(runs).toEqual([]);
    expect(JSON.stringify(prompts.at(-1))).toContain('No answer arrived before the deadline');
  });

  it('when: reads and small amounts are not-applicable (run at once); a large transfer asks', async () => {
    const s = await start({ devices: [{ answer: 'reject' }] });
    const { runs, tools: t } = tools();
    const small = { ...transferArgs, amount: 5 };
    const { model } = sdk.model([
      {
        calls: [
          { id: 'v7-w1', name: 'read_balance', args: transferArgs },
          { id: 'v7-w2', name: 'transfer_funds', args: small },
          { id: 'v7-w3', name: 'transfer_funds', args: transferArgs },
        ],
      },
      { text: 'ok' },
    ]);
    const r = await sdk.generateText({
      model,
      tools: t,
      prompt: 'pay',
      stopWhen: sdk.stepCountIs(3),
      toolApproval: noxyToolApproval({
        client: s.client,
        identity: s.identity,
        when: (input, ctx) => ctx.toolName === 'transfer_funds' && (input as { amount: number }).amount > 100,
      }),
    });
    expect(runs.map((x) => [x.tool, x.input.amount])).toEqual([
      ['read_balance', 250],
      ['transfer_funds', 5],
    ]);
    expect(s.received[0]).toHaveLength(1);
    expect(denials(r).length).toBeGreaterThan(0);
  });

  it('the per-tool map gates only the named tools; runtimeContext reaches the identity resolver', async () => {
    const s = await start({ devices: [{ answer: 'approve' }] });
    const { runs, tools: t } = tools();
    const seen: AiSdkCallContext[] = [];
    const { model } = sdk.model([
      {
        calls: [
          { id: 'v7-m1', name: 'read_balance', args: transferArgs },
          { id: 'v7-m2', name: 'transfer_funds', args: transferArgs },
        ],
      },
      { text: 'ok' },
    ]);
    await sdk.generateText({
      model,
      tools: t,
      prompt: 'pay',
      stopWhen: sdk.stepCountIs(3),
      runtimeContext: { user: s.identity },
      toolApproval: noxyToolApprovalMap(['transfer_funds'], {
        client: s.client,
        identity: (ctx) => {
          seen.push(ctx);
          return (ctx.runtimeContext as { user: string }).user;
        },
      }),
    });
    expect(runs.map((x) => x.tool).sort()).toEqual(['read_balance', 'transfer_funds']);
    expect(s.received[0]).toHaveLength(1);
    expect(seen.map((c) => [c.toolName, c.toolCallId])).toEqual([['transfer_funds', 'v7-m2']]);
  });

  it('a retried call with the same toolCallId: no second decision, no second run', async () => {
    const s = await start({ devices: [{ answer: 'approve' }] });
    const { runs, tools: t } = tools();
    const toolApproval = noxyToolApproval({ client: s.client, identity: s.identity });
    for (let i = 0; i < 2; i++) {
      const { model } = sdk.model([
        { calls: [{ id: 'v7-same', name: 'transfer_funds', args: transferArgs }] },
        { text: 'ok' },
      ]);
      await sdk.generateText({ model, tools: t, prompt: 'pay', stopWhen: sdk.stepCountIs(3), toolApproval });
    }
    expect(s.received[0]).toHaveLength(1);
    expect(runs).toHaveLength(1);
  });
});

describe('ai 7: noxyToolApproval in streamText', () => {
  it('approved: the stream carries the tool result; rejected: nothing runs', async () => {
    for (const answer of ['approve', 'reject'] as const) {
      const s = await start({ devices: [{ answer }] });
      const { runs, tools: t } = tools();
      const { model } = sdk.model([
        { calls: [{ id: `v7-s-${answer}`, name: 'transfer_funds', args: transferArgs }] },
        { text: 'ok' },
      ]);
      const result = sdk.streamText({
        model,
        tools: t,
        prompt: 'pay',
        stopWhen: sdk.stepCountIs(3),
        toolApproval: noxyToolApproval({ client: s.client, identity: s.identity }),
      });
      const types: string[] = [];
      for await (const part of result.fullStream) types.push(part.type);
      const steps = await result.steps;
      if (answer === 'approve') {
        expect(runs).toHaveLength(1);
        expect(toolResults({ steps })).toEqual([expect.objectContaining({ output: { ok: 'transfer_funds' } })]);
      } else {
        expect(runs).toEqual([]);
        expect(toolResults({ steps })).toEqual([]);
      }
      expect(types).toContain('finish');
      await s.close();
      stack = undefined;
    }
  });
});
