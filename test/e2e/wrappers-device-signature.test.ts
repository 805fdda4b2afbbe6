/**
 * `requireDeviceSignature` through the framework wrappers (issue 12): against a relay that answers
 * APPROVED without a device signature (the AgentTestServer), neither LangChain's nor the AI SDK's
 * `withApproval` runs the tool, and the model is told why; with our own devices (local stack),
 * the signed approval verifies and the tool runs.
 */
import { tool as langchainTool } from '@langchain/core/tools';
import { isApprovalRefusal, withApproval as aiWithApproval } from '@noxy-approval/ai-sdk';
import { loadKemBackend, createNoxyClient } from '@noxy-approval/core';
import { withApproval as langchainWithApproval } from '@noxy-approval/langchain';
import { agent } from '@noxy-approval/proto';
import { AgentTestServer, startLocalStack } from '@noxy-approval/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';

const ALICE = 'alice@example.com';
const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

/** A relay that approves every routed decision at once, unsigned. */
async function approvingRelay() {
  const server = await AgentTestServer.start();
  open.push(server);
  await server.addDevices(ALICE, 1);
  server.routeStatus = (req) => {
    server.setOutcome(String(req.decisionId), [{ outcome: agent.DecisionOutcome.DECISION_OUTCOME_APPROVED }]);
    return agent.DeliveryStatus.DELIVERED;
  };
  return server;
}

function tools() {
  const runs: unknown[] = [];
  const lc = langchainTool(
    async (args: { to: string; amount: number }) => {
      runs.push(args);
      return 'sent';
    },
    { name: 'transfer_funds', description: 'Send money.', schema: z.object({ to: z.string(), amount: z.number() }) },
  );
  const ai = {
    description: 'Send money.',
    execute: async (args: { to: string; amount: number }, _options: unknown) => {
      runs.push(args);
      return 'sent';
    },
  };
  return { runs, lc, ai };
}

const args = { to: 'bob', amount: 25 };
const callOptions = { toolCallId: 'call-1', messages: [] };

describe('requireDeviceSignature in the wrappers', () => {
  it('an unsigned APPROVED from the relay: neither wrapper runs the tool; the model reads why', async () => {
    const server = await approvingRelay();
    const kem = await loadKemBackend('mlkem');
    const client = createNoxyClient({ endpoint: server.endpoint, authToken: 't', kem });
    open.push(client);
    const { runs, lc, ai } = tools();
    const options = { client, identity: ALICE, requireDeviceSignature: true };

    const wrappedLc = langchainWithApproval(lc, options);
    const text = String(await wrappedLc.invoke(args));
    expect(text).toContain('could not be verified');
    expect(text).toContain('reason: unsigned');

    const wrappedAi = aiWithApproval(ai, { ...options, name: 'transfer_funds' });
    const out = await wrappedAi.execute(args, callOptions);
    expect(isApprovalRefusal(out) && out.reason).toBe('unverified_approval');
    expect(runs).toEqual([]);

    // Without the option the same relay's word is taken, as with official relays and devices.
    const plain = langchainWithApproval(tools().lc, { client, identity: ALICE });
    expect(String(await plain.invoke(args))).toBe('sent');
  });

  it('our devices sign: the approval verifies and both wrappers run the tool', async () => {
    const stack = await startLocalStack({ devices: [{ answer: 'approve' }] });
    open.push(stack);
    const { runs, lc, ai } = tools();
    const options = { client: stack.client, identity: stack.identity, requireDeviceSignature: true };
    expect(String(await langchainWithApproval(lc, options).invoke(args))).toBe('sent');
    expect(await aiWithApproval(ai, { ...options, name: 'transfer_funds' }).execute(args, callOptions)).toBe('sent');
    expect(runs).toEqual([args, args]);
  });
});
