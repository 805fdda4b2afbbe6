import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { computeActionHash, type ApprovalOutput } from '@noxy-approval/core';
import { createApprovalServer } from '@noxy-approval/mcp';
import { afterEach, describe, expect, it } from 'vitest';
import { startLocalStack, type Answer, type LocalStack } from '@noxy-approval/testing';

let stack: LocalStack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

async function connect(_s: LocalStack, server: Parameters<typeof createApprovalServer>[0]) {
  const mcp = createApprovalServer(server);
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'test-host', version: '1' });
  await Promise.all([mcp.connect(serverSide), client.connect(clientSide)]);
  return client;
}

const request = {
  tool: 'transfer_funds',
  args: { to: '0x000000000000000000000000000000000000dEaD', amountWei: '1' },
  title: 'Send 1 wei',
};

function output(result: Awaited<ReturnType<Client['callTool']>>): ApprovalOutput {
  expect(result.isError).toBeFalsy();
  return result.structuredContent as ApprovalOutput;
}

function text(result: Awaited<ReturnType<Client['callTool']>>): string {
  return (result.content as { type: string; text: string }[])[0]!.text;
}

describe('request_human_approval over MCP against the local relay', () => {
  it('lists both tools with input and output schemas and annotations', async () => {
    stack = await startLocalStack();
    const client = await connect(stack, { client: stack.client, identity: stack.identity });
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['check_human_approval', 'request_human_approval']);
    const req = tools.find((t) => t.name === 'request_human_approval')!;
    expect(req.inputSchema.required).toEqual(expect.arrayContaining(['tool', 'args', 'title']));
    expect(req.inputSchema.properties).not.toHaveProperty('identity');
    expect(req.outputSchema?.properties).toHaveProperty('outcome');
    expect(req.annotations?.openWorldHint).toBe(true);
  });

  it.each<[Answer, string, string]>([
    ['approve', 'approved', 'You may proceed'],
    ['reject', 'rejected', 'do not retry'],
  ])('device answers %s → %s with the structured result and text', async (answer, outcome, phrase) => {
    stack = await startLocalStack({ devices: [{ answer }] });
    const client = await connect(stack, { client: stack.client, identity: stack.identity });
    const result = await client.callTool({
      name: 'request_human_approval',
      arguments: { ...request, summary: 'test' },
    });
    const out = output(result);
    expect(out.outcome).toBe(outcome);
    expect(out.tool).toBe('transfer_funds');
    expect(out.decided_at).toBeDefined();
    expect(text(result)).toContain(phrase);
    // The device saw exactly the action the hash binds.
    const seen = stack.received[0]![0]!.payload as Record<string, unknown>;
    expect(seen.tool).toBe('transfer_funds');
    expect(seen.args).toEqual(request.args);
    expect(seen.decision_id).toBe(out.decision_id);
    expect(seen.action_hash).toBe(out.action_hash);
    expect(computeActionHash(seen as never)).toBe(out.action_hash);
  });

  it('nobody answers before the TTL → expired, nothing executed', async () => {
    stack = await startLocalStack({ devices: [{ answer: 'never' }] });
    const client = await connect(stack, { client: stack.client, identity: stack.identity, ttlSeconds: 1 });
    const result = await client.callTool({ name: 'request_human_approval', arguments: request });
    const out = output(result);
    expect(out.outcome).toBe('expired');
    expect(text(result)).toContain('nothing was executed');
  });

  it('holds, answers pending with a handle, and check_human_approval returns the final outcome', async () => {
    stack = await startLocalStack({ devices: [{ answer: 'approve', delayMs: 700 }] });
    const client = await connect(stack, { client: stack.client, identity: stack.identity, holdMs: 200 });
    const first = output(await client.callTool({ name: 'request_human_approval', arguments: request }));
    expect(first.outcome).toBe('pending');
    expect(first.handle).toMatch(/^nxa1_[A-Za-z0-9_-]+$/);
    expect(first.message).toContain(`check_human_approval with decision_id "${first.handle}"`);
    // The bare decision id works in the process that made it; the handle works anywhere.
    let checked = output(
      await client.callTool({ name: 'check_human_approval', arguments: { decision_id: first.decision_id } }),
    );
    for (let i = 0; i < 20 && checked.outcome === 'pending'; i++) {
      checked = output(
        await client.callTool({ name: 'check_human_approval', arguments: { decision_id: first.handle } }),
      );
    }
    expect(checked.outcome).toBe('approved');
    expect(checked.action_hash).toBe(first.action_hash);
  });
});

describe('refusals: nothing reaches the relay', () => {
  async function decisionsStored(s: LocalStack) {
    return s.relay.status().decisions.total;
  }

  it('an identity smuggled into the arguments is refused by the schema', async () => {
    stack = await startLocalStack();
    const client = await connect(stack, { client: stack.client, identity: stack.identity });
    const result = await client.callTool({
      name: 'request_human_approval',
      arguments: { ...request, identity: 'mallory@example.com' },
    });
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(/identity|Unrecognized/i);
    expect(await decisionsStored(stack)).toBe(0);
    expect(stack.received[0]).toHaveLength(0);
  });

  it('a "__proto__" key in the arguments, top-level or nested, is refused by name instead of dropped', async () => {
    stack = await startLocalStack();
    const client = await connect(stack, { client: stack.client, identity: stack.identity });
    // JSON.parse keeps "__proto__" as an own key, as a host's JSON decoder hands it over.
    const top = JSON.parse(`{"tool":"transfer_funds","args":{"to":"bob"},"title":"Pay","__proto__":{"x":1}}`);
    const nested = JSON.parse(`{"tool":"transfer_funds","args":{"to":"bob","__proto__":{"amount":9}},"title":"Pay"}`);
    const refusedTop = await client.callTool({ name: 'request_human_approval', arguments: top });
    expect(refusedTop.isError).toBe(true);
    expect(text(refusedTop)).toContain('"__proto__" (arguments.__proto__) is not accepted');
    const refusedNested = await client.callTool({ name: 'request_human_approval', arguments: nested });
    expect(refusedNested.isError).toBe(true);
    expect(text(refusedNested)).toContain('(arguments.args.__proto__)');
    expect(await decisionsStored(stack)).toBe(0);
    expect(stack.received[0]).toHaveLength(0);
  });

  it('oversized arguments (> 64 KiB) are refused', async () => {
    stack = await startLocalStack();
    const client = await connect(stack, { client: stack.client, identity: stack.identity });
    const result = await client.callTool({
      name: 'request_human_approval',
      arguments: { ...request, args: { blob: 'x'.repeat(70_000) } },
    });
    expect(result.isError).toBe(true);
    expect(text(result)).toContain('65536 bytes');
    expect(await decisionsStored(stack)).toBe(0);
  });

  it('an unknown decision id is refused without asking the relay', async () => {
    stack = await startLocalStack();
    const client = await connect(stack, { client: stack.client, identity: stack.identity });
    const result = await client.callTool({
      name: 'check_human_approval',
      arguments: { decision_id: '0b9a3c55-3a8e-4f51-9d7e-5b0f6f1f1c11' },
    });
    expect(result.isError).toBe(true);
    expect(text(result)).toContain('unknown decision_id');
    expect(text(result)).toContain('do not perform');
  });

  it('a relay that cannot be reached gives a clear per-call tool error', async () => {
    stack = await startLocalStack();
    const dead = stack.newClient({
      endpoint: 'http://127.0.0.1:9',
      timeouts: { other: 500, routeDecision: 500, getDecisionOutcome: 500 },
    });
    const client = await connect(stack, { client: dead, identity: stack.identity });
    expect((await client.listTools()).tools).toHaveLength(2);
    const result = await client.callTool({ name: 'request_human_approval', arguments: request });
    expect(result.isError).toBe(true);
    expect(text(result)).toContain('RELAY_UNAVAILABLE');
    expect(text(result)).not.toContain(stack.appToken);
  });
});
