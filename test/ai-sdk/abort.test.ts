/**
 * Abort while the human has not answered: every shape rejects with ABORTED, runs no tool, and
 * makes no poll after the abort. The relay is core's scriptable test server (the decision
 * stays pending and every poll is recorded), so polls can be counted.
 */
import { createNoxyClient, type NoxyClient } from '@noxy-approval/core';
import { noxyToolApproval, resolveToolApprovals, withApproval } from '@noxy-approval/ai-sdk';
import { AgentTestServer } from '@noxy-approval/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { sdk6, sdk7 } from './sdk.js';

const ALICE = 'alice@example.com';
const args = { to: 'bob', amount: 250 };

let server: AgentTestServer;
let client: NoxyClient;
beforeEach(async () => {
  server = await AgentTestServer.start();
  await server.addDevices(ALICE, 1);
  client = createNoxyClient({ endpoint: server.endpoint, authToken: 'tok_ai_sdk_abort_0123', kem: 'mlkem' });
});
afterEach(async () => {
  client.close();
  await server.close();
});

const REASON = new Error('user pressed stop');
const polls = () => server.callsTo('GetDecisionOutcome');

/** Starts `run`, aborts once the wait has polled, and reports what happened after. */
async function abortWhileWaiting(run: (signal: AbortSignal) => Promise<unknown>) {
  const controller = new AbortController();
  const outcome = run(controller.signal).then(
    () => ({ error: undefined }),
    (error: unknown) => ({ error }),
  );
  await vi.waitFor(() => expect(polls().length).toBeGreaterThan(0), { timeout: 5_000, interval: 10 });
  const abortedAt = Date.now();
  controller.abort(REASON);
  const { error } = await outcome;
  // Longer than the client's first backoff steps: a poll still scheduled would show up here.
  await new Promise((r) => setTimeout(r, 400));
  return { error, pollsAfter: polls().filter((p) => p.at > abortedAt).length };
}

function transfer(sdk: typeof sdk6, runs: unknown[]) {
  return sdk.tool({
    description: 'Send money',
    inputSchema: z.object({ to: z.string(), amount: z.number() }),
    execute: async (input: unknown) => {
      runs.push(input);
      return 'sent';
    },
  });
}

/** The SDK rejects with the caller's abort reason, or with core's ABORTED. */
const aborted = (error: unknown) =>
  expect(error === REASON || (error as { code?: string }).code === 'ABORTED', String(error)).toBe(true);

describe('abort', () => {
  for (const sdk of [sdk6, sdk7]) {
    it(`${sdk.name}: withApproval — generateText rejects, the tool never runs, no poll after`, async () => {
      const runs: unknown[] = [];
      const gated = withApproval(transfer(sdk, runs), { name: 'transfer_funds', client, identity: ALICE });
      const { model } = sdk.model([
        { calls: [{ id: `abort-${sdk.major}`, name: 'transfer_funds', args }] },
        { text: 'x' },
      ]);
      const { error, pollsAfter } = await abortWhileWaiting((abortSignal) =>
        sdk.generateText({
          model,
          tools: { transfer_funds: gated },
          prompt: 'pay',
          stopWhen: sdk.stepCountIs(3),
          abortSignal,
        }),
      );
      expect(error).toBeDefined();
      aborted(error);
      expect(runs).toEqual([]);
      expect(pollsAfter).toBe(0);
    });

    it(`${sdk.name}: resolveToolApprovals — rejects with ABORTED, nothing approved, no poll after`, async () => {
      const content = [
        {
          type: 'tool-approval-request',
          approvalId: 'a1',
          toolCall: { toolName: 'transfer_funds', toolCallId: 'c1', input: args },
        },
        {
          type: 'tool-approval-request',
          approvalId: 'a2',
          toolCall: { toolName: 'transfer_funds', toolCallId: 'c2', input: args },
        },
      ];
      const { error, pollsAfter } = await abortWhileWaiting((signal) =>
        resolveToolApprovals({ content, client, identity: ALICE, signal }),
      );
      expect(error).toMatchObject({ name: 'NoxyError', code: 'ABORTED' });
      expect(pollsAfter).toBe(0);
    });
  }

  it('ai 7: noxyToolApproval — generateText rejects, the tool never runs, no poll after', async () => {
    const runs: unknown[] = [];
    const { model } = sdk7.model([{ calls: [{ id: 'abort-ta', name: 'transfer_funds', args }] }, { text: 'x' }]);
    const { error, pollsAfter } = await abortWhileWaiting((signal) =>
      sdk7.generateText({
        model,
        tools: { transfer_funds: transfer(sdk7, runs) },
        prompt: 'pay',
        stopWhen: sdk7.stepCountIs(3),
        abortSignal: signal,
        toolApproval: noxyToolApproval({ client, identity: ALICE, signal }),
      }),
    );
    expect(error).toMatchObject({ name: 'NoxyError', code: 'ABORTED' });
    expect(runs).toEqual([]);
    expect(pollsAfter).toBe(0);
  });
});
