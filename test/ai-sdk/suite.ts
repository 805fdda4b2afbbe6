/**
 * The suite every AI SDK major must pass (run by ai-v6.test.ts and ai-v7.test.ts): each shape
 * of @noxy-approval/ai-sdk in a real `generateText` loop with a scripted model, against the
 * real local relay with devices that answer as scripted.
 */
import { MemoryApprovalStore } from '@noxy-approval/core';
import {
  approvalTool,
  APPROVAL_TOOL,
  isApprovalRefusal,
  resolveToolApprovals,
  withApproval,
  type AiSdkCallContext,
} from '@noxy-approval/ai-sdk';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '@noxy-approval/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { toolErrors, toolResults, type Sdk } from './sdk.js';

const transferArgs = { to: 'DE89 3704 0044 0532 0130 00', amount: 250, currency: 'EUR' };

/** Defines the shared suite for one SDK major. */
export function defineSdkSuite(sdk: Sdk): void {
  let stack: LocalStack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });
  const start = async (options: LocalStackOptions) => {
    stack = await startLocalStack(options);
    return stack;
  };

  /** A transfer tool that records every run. */
  function bank() {
    const runs: Record<string, unknown>[] = [];
    const transfer = sdk.tool({
      description: 'Send money',
      inputSchema: z.object({ to: z.string(), amount: z.number(), currency: z.string() }),
      execute: async (input: Record<string, unknown>) => {
        runs.push(input);
        return { transfer_id: `tx_${runs.length}` };
      },
    });
    return { runs, transfer };
  }

  /** One `generateText` loop: the model is asked to pay and may take `steps` steps. */
  const pay = (model: unknown, tools: Record<string, unknown>, steps = 3) =>
    sdk.generateText({ model, tools, prompt: 'pay', stopWhen: sdk.stepCountIs(steps) });

  const callTransfer = (id: string, args: Record<string, unknown> = transferArgs) => [
    { calls: [{ id, name: 'transfer_funds', args }] },
    { text: 'done' },
  ];

  describe(`${sdk.name}: withApproval`, () => {
    it('approved: the tool runs once with exactly the approved arguments; the model reads its result', async () => {
      const s = await start({ devices: [{ answer: 'approve' }] });
      const { runs, transfer } = bank();
      const gated = withApproval(transfer, { name: 'transfer_funds', client: s.client, identity: s.identity });
      const { model, prompts } = sdk.model(callTransfer('call-approve'));
      const r = await pay(model, { transfer_funds: gated });
      expect(runs).toEqual([transferArgs]);
      expect(toolResults(r)).toEqual([
        expect.objectContaining({ toolName: 'transfer_funds', output: { transfer_id: 'tx_1' } }),
      ]);
      expect(s.received[0]).toHaveLength(1);
      expect(s.received[0]![0]!.payload).toMatchObject({ tool: 'transfer_funds', args: transferArgs });
      expect(JSON.stringify(prompts[1])).toContain('tx_1');
      expect(r.text).toBe('done');
    });

    it('rejected: the tool never runs; the model reads "do not retry" as a result, not an error', async () => {
      const s = await start({ devices: [{ answer: 'reject' }] });
      const { runs, transfer } = bank();
      const gated = withApproval(transfer, { name: 'transfer_funds', client: s.client, identity: s.identity });
      const { model, prompts } = sdk.model(callTransfer('call-reject'));
      const r = await pay(model, { transfer_funds: gated });
      expect(runs).toEqual([]);
      expect(toolErrors(r)).toEqual([]);
      const [result] = toolResults(r);
      expect(isApprovalRefusal(result!.output)).toBe(true);
      expect(result!.output).toMatchObject({ status: 'not_executed', reason: 'rejected', tool: 'transfer_funds' });
      expect(JSON.stringify(prompts[1])).toContain('do not retry it');
    });

    it('expired: nobody answers before the TTL; the tool never runs', async () => {
      const s = await start({ devices: [{ answer: 'never' }] });
      const { runs, transfer } = bank();
      const gated = withApproval(transfer, {
        name: 'transfer_funds',
        client: s.client,
        identity: s.identity,
        ttlSeconds: 1,
      });
      const { model } = sdk.model(callTransfer('call-expire'));
      const r = await pay(model, { transfer_funds: gated });
      expect(runs).toEqual([]);
      expect(toolResults(r)[0]!.output).toMatchObject({ status: 'not_executed', reason: 'expired' });
      expect(JSON.stringify(toolResults(r)[0]!.output)).toContain('nothing was executed');
    });

    it('when: small amounts run at once without a decision; large ones ask', async () => {
      const s = await start({ devices: [{ answer: 'reject' }] });
      const { runs, transfer } = bank();
      const gated = withApproval(transfer, {
        name: 'transfer_funds',
        client: s.client,
        identity: s.identity,
        when: (input) => (input.amount as number) > 100,
        title: (input) => `Send ${input.amount} ${input.currency}`,
      });
      const small = { ...transferArgs, amount: 5 };
      const { model } = sdk.model([
        { calls: [{ id: 'call-small', name: 'transfer_funds', args: small }] },
        { calls: [{ id: 'call-large', name: 'transfer_funds', args: transferArgs }] },
        { text: 'done' },
      ]);
      const r = await pay(model, { transfer_funds: gated }, 4);
      expect(runs).toEqual([small]);
      expect(s.received[0]).toHaveLength(1);
      expect(s.received[0]![0]!.payload).toMatchObject({ title: 'Send 250 EUR', args: transferArgs });
      expect(toolResults(r).map((t) => (isApprovalRefusal(t.output) ? t.output.reason : 'ran'))).toEqual([
        'ran',
        'rejected',
      ]);
    });

    it('the identity resolver gets the SDK call context (toolName, toolCallId, messages, context)', async () => {
      const s = await start({ devices: [{ answer: 'approve' }] });
      const { runs, transfer } = bank();
      const seen: AiSdkCallContext[] = [];
      const gated = withApproval(transfer, {
        name: 'transfer_funds',
        client: s.client,
        identity: (ctx) => {
          seen.push(ctx);
          return (ctx.context as { user: string }).user;
        },
      });
      const { model } = sdk.model(callTransfer('call-ctx'));
      // 6 passes experimental_context to every tool; 7 passes each tool its entry of toolsContext.
      const context =
        sdk.major === 6
          ? { experimental_context: { user: s.identity } }
          : { toolsContext: { transfer_funds: { user: s.identity } } };
      await sdk.generateText({
        model,
        tools: { transfer_funds: gated },
        prompt: 'pay',
        stopWhen: sdk.stepCountIs(3),
        ...context,
      });
      expect(runs).toHaveLength(1);
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatchObject({ toolName: 'transfer_funds', toolCallId: 'call-ctx', input: transferArgs });
      expect(seen[0]!.messages.length).toBeGreaterThan(0);
    });

    it('a retried step with the same toolCallId makes no second decision and does not run twice', async () => {
      const s = await start({ devices: [{ answer: 'approve' }] });
      const { runs, transfer } = bank();
      const gated = withApproval(transfer, { name: 'transfer_funds', client: s.client, identity: s.identity });
      for (let attempt = 0; attempt < 2; attempt++) {
        const { model } = sdk.model(callTransfer('call-retried'));
        await pay(model, { transfer_funds: gated });
      }
      expect(s.received[0]).toHaveLength(1);
      expect(runs).toHaveLength(1);
    });

    it('the retry answers "already executed" to the model', async () => {
      const s = await start({ devices: [{ answer: 'approve' }] });
      const { transfer } = bank();
      const gated = withApproval(transfer, { name: 'transfer_funds', client: s.client, identity: s.identity });
      const outputs: unknown[] = [];
      for (let attempt = 0; attempt < 2; attempt++) {
        const { model } = sdk.model(callTransfer('call-retried-2'));
        const r = await pay(model, { transfer_funds: gated });
        outputs.push(toolResults(r)[0]!.output);
      }
      expect(outputs[0]).toEqual({ transfer_id: 'tx_1' });
      expect(outputs[1]).toMatchObject({ status: 'not_executed', reason: 'already_executed' });
    });
  });

  describe(`${sdk.name}: failures never run the tool`, () => {
    it('relay unreachable: a tool error naming RELAY_UNAVAILABLE', async () => {
      const s = await start({ devices: [{ answer: 'approve' }] });
      const dead = s.newClient({
        endpoint: 'http://127.0.0.1:9',
        timeouts: { other: 500, routeDecision: 500, getDecisionOutcome: 500 },
      });
      const { runs, transfer } = bank();
      const gated = withApproval(transfer, { name: 'transfer_funds', client: dead, identity: s.identity });
      const { model, prompts } = sdk.model(callTransfer('call-dead'));
      const r = await pay(model, { transfer_funds: gated });
      expect(runs).toEqual([]);
      const [error] = toolErrors(r);
      expect(error!.error).toMatchObject({ name: 'NoxyError', code: 'RELAY_UNAVAILABLE' });
      expect(String((error!.error as Error).message)).toContain('"transfer_funds" was not executed');
      expect(JSON.stringify(prompts[1])).toContain('RELAY_UNAVAILABLE');
      expect(JSON.stringify(prompts[1])).not.toContain(s.appToken);
    });

    it('no devices for the identity: a tool error naming NO_DEVICES', async () => {
      const s = await start({ devices: [{ answer: 'approve' }] });
      const { runs, transfer } = bank();
      const gated = withApproval(transfer, {
        name: 'transfer_funds',
        client: s.client,
        identity: 'nobody@example.com',
      });
      const { model } = sdk.model(callTransfer('call-nodev'));
      const r = await pay(model, { transfer_funds: gated });
      expect(runs).toEqual([]);
      expect(toolErrors(r)[0]!.error).toMatchObject({ code: 'NO_DEVICES' });
      expect(String((toolErrors(r)[0]!.error as Error).message)).toContain('was not executed');
    });
  });

  describe(`${sdk.name}: approvalTool`, () => {
    const request = { tool: 'transfer_funds', args: transferArgs, title: 'Pay invoice #1042' };
    const ask = async (answer: 'approve' | 'reject' | 'never', id: string) => {
      const s = await start({ devices: [{ answer }] });
      const approval = approvalTool({
        client: s.client,
        identity: s.identity,
        ttlSeconds: answer === 'never' ? 1 : 60,
      });
      const { model, prompts } = sdk.model([{ calls: [{ id, name: APPROVAL_TOOL, args: request }] }, { text: 'ok' }]);
      const r = await pay(model, { [APPROVAL_TOOL]: approval });
      return { s, output: toolResults(r)[0]!.output as Record<string, unknown>, prompts };
    };

    it('approved: outcome, decision id, handle and the message the model reads', async () => {
      const { s, output, prompts } = await ask('approve', 'call-at-1');
      expect(output).toMatchObject({ outcome: 'approved', tool: 'transfer_funds' });
      expect(output.handle).toMatch(/^nxa1_/);
      expect(output.message).toContain('You may proceed with exactly the arguments');
      expect(s.received[0]![0]!.payload).toMatchObject({ tool: 'transfer_funds', args: transferArgs });
      expect(JSON.stringify(prompts[1])).toContain('approved');
    });

    it('rejected', async () => {
      const { output } = await ask('reject', 'call-at-2');
      expect(output).toMatchObject({ outcome: 'rejected' });
      expect(output.message).toContain('do not retry it');
    });

    it('expired', async () => {
      const { output } = await ask('never', 'call-at-3');
      expect(output).toMatchObject({ outcome: 'expired' });
    });

    it('refuses an identity written by the model (strict schema): nobody is asked', async () => {
      const s = await start({ devices: [{ answer: 'approve' }] });
      const approval = approvalTool({ client: s.client, identity: s.identity });
      const args = { ...request, identity: 'mallory@example.com' };
      const { model } = sdk.model([{ calls: [{ id: 'call-at-4', name: APPROVAL_TOOL, args }] }, { text: 'ok' }]);
      const r = await pay(model, { [APPROVAL_TOOL]: approval });
      expect(toolResults(r)).toEqual([]);
      expect(s.received[0]).toHaveLength(0);
    });
  });

  describe(`${sdk.name}: resolveToolApprovals (needsApproval)`, () => {
    async function twoCalls(answers: ('approve' | 'reject')[]) {
      const s = await start({ devices: [{ answer: answers[0]! }] });
      const runs: Record<string, unknown>[] = [];
      const mk = () =>
        sdk.tool({
          description: 'Send money',
          inputSchema: z.object({ to: z.string(), amount: z.number(), currency: z.string() }),
          needsApproval: true,
          execute: async (input: Record<string, unknown>) => {
            runs.push(input);
            return { transfer_id: `tx_${runs.length}` };
          },
        });
      const tools = { transfer_funds: mk() };
      const second = { ...transferArgs, amount: 9 };
      const { model, prompts } = sdk.model([
        {
          calls: [
            { id: 'call-na-1', name: 'transfer_funds', args: transferArgs },
            { id: 'call-na-2', name: 'transfer_funds', args: second },
          ],
        },
        { text: 'all answered' },
      ]);
      const messages: unknown[] = [{ role: 'user', content: 'pay both' }];
      const first = await sdk.generateText({ model, tools, messages, stopWhen: sdk.stepCountIs(3) });
      expect(first.content.filter((c) => c.type === 'tool-approval-request')).toHaveLength(2);
      expect(runs).toEqual([]);
      messages.push(...first.response.messages);
      const reply = await resolveToolApprovals({ result: first, client: s.client, identity: s.identity });
      messages.push(reply);
      const final = await sdk.generateText({ model, tools, messages, stopWhen: sdk.stepCountIs(3) });
      return { s, runs, reply, final, prompts, second };
    }

    it('approved: both requests go to the phone in parallel; the next call runs both tools', async () => {
      const { s, runs, reply, final, second } = await twoCalls(['approve']);
      expect(s.received[0]).toHaveLength(2);
      expect(reply.role).toBe('tool');
      expect(reply.content.map((c) => [c.type, c.approved])).toEqual([
        ['tool-approval-response', true],
        ['tool-approval-response', true],
      ]);
      expect(runs).toEqual([transferArgs, second]);
      expect(final.text).toBe('all answered');
    });

    it('rejected: denied with the reason; the next call tells the model and runs nothing', async () => {
      const { runs, reply, prompts } = await twoCalls(['reject']);
      expect(reply.content.map((c) => c.approved)).toEqual([false, false]);
      expect(reply.content[0]!.reason).toContain('The user rejected "transfer_funds"');
      expect(runs).toEqual([]);
      const last = JSON.stringify(prompts.at(-1));
      expect(last).toContain('execution-denied');
      expect(last).toContain('do not retry it');
    });

    it('a shared store: resolving the same requests again asks nobody twice', async () => {
      const s = await start({ devices: [{ answer: 'approve' }] });
      const store = new MemoryApprovalStore();
      const content = [
        {
          type: 'tool-approval-request',
          approvalId: 'a1',
          toolCall: { toolName: 'transfer_funds', toolCallId: 'call-shared', input: transferArgs },
        },
      ];
      const first = await resolveToolApprovals({ content, client: s.client, identity: s.identity, store });
      const again = await resolveToolApprovals({ content, client: s.client, identity: s.identity, store });
      expect(s.received[0]).toHaveLength(1);
      expect(first.content[0]!.approved).toBe(true);
      // The one approval was used by the first answer: the repeat does not approve it again.
      expect(again.content[0]).toMatchObject({ approved: false });
      expect(again.content[0]!.reason).toContain('already');
    });
  });
}
