/**
 * Fail closed: when nobody can be asked (relay unreachable, no device, quota used up) the gated
 * tool never runs, and the model reads a message naming the cause and saying nothing was done.
 */
import { createServer } from 'node:net';
import { createNoxyClient, type NoxyClient } from '@noxy-approval/core';
import { approvalMiddleware, createApprovalTool, withApproval } from '@noxy-approval/langchain';
import { startBlackhole, startLocalStack, type Blackhole, type LocalStack } from '@noxy-approval/testing';
import { createAgent, HumanMessage, type ToolMessage } from 'langchain';
import { afterEach, describe, expect, it } from 'vitest';
import { scriptedModel, textOf, toolMessagesSeen, transferTool } from './helpers.js';

const TOKEN = 'noxy_at_unreachable_0123456789';
const ask = new HumanMessage('Pay Bob 25.');
const bobCall = { name: 'transfer_funds', args: { to: 'bob', amount: 25 }, id: 'call_1' };
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A loopback port with nothing listening. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** A client whose sends give up quickly (the default budget is 10 s). */
function quickClient(endpoint: string): NoxyClient {
  const client = createNoxyClient({ endpoint, authToken: TOKEN, timeouts: { routeDecision: 1_500, other: 1_000 } });
  cleanups.push(() => client.close());
  return client;
}

async function stackWith(options: Parameters<typeof startLocalStack>[0]): Promise<LocalStack> {
  const stack = await startLocalStack(options);
  cleanups.push(() => stack.close());
  return stack;
}

/** Runs one gated transfer through the middleware; returns what the model read and the runs. */
async function throughMiddleware(client: NoxyClient) {
  const { transfer, runs } = transferTool();
  const model = scriptedModel([bobCall]);
  const middleware = approvalMiddleware({ client, identity: 'alice@example.com', gate: ['transfer_funds'] });
  await createAgent({ model, tools: [transfer], middleware: [middleware] }).invoke({ messages: [ask] });
  const [seen] = toolMessagesSeen(model);
  return { seen: seen!, runs };
}

describe('nobody can be asked: nothing runs, the model is told why', () => {
  it('middleware, relay unreachable (closed port): RELAY_UNAVAILABLE', async () => {
    const { seen, runs } = await throughMiddleware(quickClient(`http://127.0.0.1:${await closedPort()}`));
    expect(runs).toEqual([]);
    expect(seen.status).toBe('error');
    expect(textOf(seen)).toContain('the approval relay could not be reached (RELAY_UNAVAILABLE');
    expect(textOf(seen)).toContain('Nothing was executed');
  });

  it('middleware, no device paired: NO_DEVICES', async () => {
    const stack = await stackWith({ devices: [] });
    const { seen, runs } = await throughMiddleware(stack.client);
    expect(runs).toEqual([]);
    expect(seen.status).toBe('error');
    expect(textOf(seen)).toContain('the user has no device paired to approve on (NO_DEVICES');
    expect(textOf(seen)).toContain('Nothing was executed');
  });

  it('middleware, quota used up: QUOTA_EXHAUSTED', async () => {
    const stack = await stackWith({ quotaTotal: 0 });
    const { seen, runs } = await throughMiddleware(stack.client);
    expect(runs).toEqual([]);
    expect(textOf(seen)).toContain("the app's approval quota is used up (QUOTA_EXHAUSTED");
    expect(stack.received[0]).toEqual([]);
  });

  it('middleware, an identity resolver that fails: nobody is asked', async () => {
    const stack = await stackWith({ devices: [{ answer: 'approve' }] });
    const { transfer, runs } = transferTool();
    const model = scriptedModel([bobCall]);
    const middleware = approvalMiddleware({
      client: stack.client,
      identity: () => {
        throw new Error('no user in this run');
      },
      gate: true,
    });
    await createAgent({ model, tools: [transfer], middleware: [middleware] }).invoke({ messages: [ask] });
    expect(runs).toEqual([]);
    expect(textOf(toolMessagesSeen(model)[0]!)).toContain('"identity" resolver failed (no user in this run)');
    expect(stack.relay.status().decisions.total).toBe(0);
  });

  it('withApproval, relay a blackhole (accepts TCP, never answers): RELAY_UNAVAILABLE', async () => {
    const hole: Blackhole = await startBlackhole();
    cleanups.push(() => hole.close());
    const { transfer, runs } = transferTool();
    const model = scriptedModel([bobCall]);
    const wrapped = withApproval(transfer, { client: quickClient(hole.endpoint), identity: 'alice@example.com' });
    await createAgent({ model, tools: [wrapped] }).invoke({ messages: [ask] });
    expect(runs).toEqual([]);
    const [seen] = toolMessagesSeen(model);
    expect(seen!.status).toBe('error');
    expect(textOf(seen!)).toContain('RELAY_UNAVAILABLE');
    expect(textOf(seen!)).toContain('Nothing was executed');
  });

  it('createApprovalTool, quota used up: the text names the cause; the artifact says error', async () => {
    const stack = await stackWith({ quotaTotal: 0 });
    const approval = createApprovalTool({ client: stack.client, identity: stack.identity });
    const out = (await approval.invoke({
      name: 'request_human_approval',
      args: { tool: 'transfer_funds', args: { to: 'bob', amount: 25 }, title: 'Send 25 to Bob' },
      id: 'call_ask',
      type: 'tool_call',
    })) as ToolMessage;
    expect(textOf(out)).toContain('QUOTA_EXHAUSTED');
    expect(textOf(out)).toContain('Nothing was executed');
    expect(out.artifact).toMatchObject({ outcome: 'error', code: 'QUOTA_EXHAUSTED' });
  });
});
