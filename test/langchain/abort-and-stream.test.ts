/**
 * Cancellation and progress: aborting `agent.invoke(…, { signal })` while the human decides
 * stops the wait at once (no poll after it) and the tool never runs; `agent.stream` in
 * `custom` mode shows progress while waiting.
 */
import { createNoxyClient, type NoxyClient } from '@noxy-approval/core';
import { approvalMiddleware, withApproval, type ApprovalProgressEvent } from '@noxy-approval/langchain';
import { AgentTestServer, startLocalStack, type LocalStack } from '@noxy-approval/testing';
import { createAgent, HumanMessage } from 'langchain';
import { afterEach, describe, expect, it } from 'vitest';
import { scriptedModel, transferTool, until } from './helpers.js';

const ALICE = 'alice@example.com';
const ask = new HumanMessage('Pay Bob 25.');
const bobCall = { name: 'transfer_funds', args: { to: 'bob', amount: 25 }, id: 'call_1' };
// Longer than the longest gap between two polls (1.6 s backoff cap), so a stray poll would show.
const QUIET_MS = 2_000;

let server: AgentTestServer | undefined;
let client: NoxyClient | undefined;
let stack: LocalStack | undefined;
afterEach(async () => {
  client?.close();
  await server?.close();
  await stack?.close();
  server = client = stack = undefined;
});

async function pendingServer() {
  server = await AgentTestServer.start();
  await server.addDevices(ALICE, 1);
  client = createNoxyClient({ endpoint: server.endpoint, authToken: 'tok_langchain_0123456789' });
  return { server, client };
}

const polls = () => server!.callsTo('GetDecisionOutcome').length;

describe('abort while waiting for the human', () => {
  for (const path of ['middleware', 'withApproval'] as const) {
    it(`${path}: invoke rejects with the abort, polling stops, the tool never runs`, async () => {
      const { client } = await pendingServer();
      const { transfer, runs } = transferTool();
      const options = { client, identity: ALICE };
      const agent =
        path === 'middleware'
          ? createAgent({
              model: scriptedModel([bobCall]),
              tools: [transfer],
              middleware: [approvalMiddleware({ ...options, gate: ['transfer_funds'] })],
            })
          : createAgent({ model: scriptedModel([bobCall]), tools: [withApproval(transfer, options)] });
      const controller = new AbortController();
      const run = agent.invoke({ messages: [ask] }, { signal: controller.signal }).then(
        () => 'resolved',
        (e: unknown) => e,
      );
      await until(() => polls() >= 2, 5_000, 'the wait to poll');
      controller.abort(new Error('user pressed stop'));
      const outcome = await run;
      expect(outcome).toBeInstanceOf(Error);
      expect((outcome as Error).message).toMatch(/user pressed stop|abort/i);
      const afterAbort = polls();
      await new Promise((r) => setTimeout(r, QUIET_MS));
      expect(polls()).toBe(afterAbort);
      expect(server!.callsTo('RouteDecision')).toHaveLength(1);
      expect(runs).toEqual([]);
    });
  }
});

describe('progress in the custom stream', () => {
  it('agent.stream shows a waiting event before the tool result, then the outcome', async () => {
    stack = await startLocalStack({ devices: [{ answer: 'approve', delayMs: 600 }] });
    const { transfer, runs } = transferTool();
    const agent = createAgent({
      model: scriptedModel([bobCall]),
      tools: [transfer],
      middleware: [approvalMiddleware({ client: stack.client, identity: stack.identity, gate: true })],
    });
    const seen: { mode: string; chunk: unknown }[] = [];
    for await (const [mode, chunk] of await agent.stream({ messages: [ask] }, { streamMode: ['custom', 'updates'] })) {
      seen.push({ mode, chunk });
    }
    const custom = seen.filter((s) => s.mode === 'custom').map((s) => s.chunk as ApprovalProgressEvent);
    expect(custom[0]).toMatchObject({
      type: 'noxy_approval',
      status: 'waiting',
      tool: 'transfer_funds',
      toolCallId: 'call_1',
    });
    expect(custom.at(-1)).toMatchObject({ status: 'decided', outcome: 'approved' });
    const firstWaiting = seen.findIndex((s) => s.mode === 'custom');
    const toolsUpdate = seen.findIndex((s) => s.mode === 'updates' && 'tools' in (s.chunk as object));
    expect(firstWaiting).toBeGreaterThanOrEqual(0);
    expect(firstWaiting).toBeLessThan(toolsUpdate);
    expect(runs).toHaveLength(1);
  });
});
