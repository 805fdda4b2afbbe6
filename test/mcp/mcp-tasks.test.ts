import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { CallToolResultSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { ApprovalOutput } from '@noxy-approval/core';
import { createApprovalServer, type ApprovalServerOptions } from '@noxy-approval/mcp';
import { startLocalStack, type Answer, type LocalStack } from '@noxy-approval/testing';
import { afterEach, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../../packages/mcp/dist/cli.js', import.meta.url));
const args = { tool: 'transfer_funds', args: { to: 'bob', amount: 25 }, title: 'Send 25 to Bob' };
const call = { name: 'request_human_approval', arguments: args };

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function stackWith(answer: Answer, delayMs = 0): Promise<LocalStack> {
  const stack = await startLocalStack({ devices: [{ answer, delayMs }] });
  cleanups.push(() => stack.close());
  return stack;
}

async function connect(stack: LocalStack, options: Partial<ApprovalServerOptions> = {}): Promise<Client> {
  const noxy = stack.newClient();
  const server = createApprovalServer({
    client: noxy,
    identity: stack.identity,
    holdMs: 5_000,
    taskPollIntervalMs: 100,
    ...options,
  });
  const [a, b] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'task-host', version: '1' });
  await Promise.all([server.connect(b), client.connect(a)]);
  cleanups.push(async () => {
    await client.close();
    await server.close();
    noxy.close();
  });
  return client;
}

async function collect(client: Client) {
  const seen: { type: string; status?: string; ttl?: number | null; pollInterval?: number; result?: CallToolResult }[] =
    [];
  for await (const m of client.experimental.tasks.callToolStream(call, CallToolResultSchema)) {
    if (m.type === 'taskCreated' || m.type === 'taskStatus') {
      seen.push({ type: m.type, status: m.task.status, ttl: m.task.ttl, pollInterval: m.task.pollInterval });
    } else if (m.type === 'result') seen.push({ type: 'result', result: m.result as CallToolResult });
    else throw m.error;
  }
  return seen;
}

describe('MCP Tasks for request_human_approval', () => {
  it('lists the tool with taskSupport optional and the server with the tasks capability', async () => {
    const client = await connect(await stackWith('approve'));
    const { tools } = await client.listTools();
    expect(tools.find((t) => t.name === 'request_human_approval')?.execution).toEqual({ taskSupport: 'optional' });
    expect(client.getServerCapabilities()?.tasks?.requests?.tools?.call).toBeDefined();
  });

  it('a task-aware host gets a task (decision TTL) that completes when the phone answers', async () => {
    const stack = await stackWith('approve', 600);
    const client = await connect(stack, { ttlSeconds: 120, holdMs: 200 });
    await client.listTools();
    const seen = await collect(client);
    expect(seen[0]).toMatchObject({ type: 'taskCreated', status: 'working', pollInterval: 100 });
    expect(seen[0]!.ttl).toBeGreaterThanOrEqual(120_000);
    // It waited past the 200 ms hold of plain calls: a task is not cut into `pending`.
    expect(seen.some((m) => m.type === 'taskStatus' && m.status === 'completed')).toBe(true);
    const result = seen.at(-1)!.result!;
    expect((result.structuredContent as ApprovalOutput).outcome).toBe('approved');
  });

  it('rejected on the phone: the task completes with the rejected outcome', async () => {
    const client = await connect(await stackWith('reject', 100));
    await client.listTools();
    const result = (await collect(client)).at(-1)!.result!;
    expect((result.structuredContent as ApprovalOutput).outcome).toBe('rejected');
  });

  it('a plain callTool on the same server still holds and answers pending (no 5 s task polling)', async () => {
    const stack = await stackWith('never');
    const client = await connect(stack, { holdMs: 300 });
    await client.listTools();
    const start = performance.now();
    const r = await client.callTool(call);
    expect((r.structuredContent as ApprovalOutput).outcome).toBe('pending');
    expect(performance.now() - start).toBeLessThan(3_000);
    const approving = await connect(await stackWith('approve', 50));
    expect(((await approving.callTool(call)).structuredContent as ApprovalOutput).outcome).toBe('approved');
  });
});

describe('cancelling an approval task', () => {
  it('aborts the wait, and a later answer on the phone leaves the noxy-mcp process alive and working', async () => {
    const stack = await stackWith('never');
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [bin],
      env: {
        PATH: process.env.PATH ?? '',
        NOXY_ENDPOINT: stack.relay.grpcUrl,
        NOXY_AUTH_TOKEN: stack.appToken,
        NOXY_IDENTITY: String(stack.identity),
        NOXY_HOLD_SECONDS: '1',
      },
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const client = new Client({ name: 'stdio-task-host', version: '1' });
    await client.connect(transport);
    cleanups.push(() => client.close().catch(() => undefined));
    await client.listTools();
    let taskId = '';
    for await (const m of client.experimental.tasks.callToolStream(call, CallToolResultSchema)) {
      if (m.type === 'taskCreated') {
        taskId = m.task.taskId;
        while (stack.received[0]!.length === 0) await new Promise((r) => setTimeout(r, 20));
        await client.experimental.tasks.cancelTask(taskId);
      }
      if (m.type === 'error' || m.type === 'result') break;
    }
    expect((await client.experimental.tasks.getTask(taskId)).status).toBe('cancelled');
    // The phone answers after the cancel: nothing may try to store into the cancelled task.
    await stack.devices[0]!.decide(stack.received[0]![0]!.decisionId, 'approve');
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await client.experimental.tasks.getTask(taskId)).status).toBe('cancelled');
    const plain = await client.callTool(call);
    expect((plain.structuredContent as ApprovalOutput).outcome).toBe('pending');
    expect(stderr).not.toMatch(/fatal|Unhandled|Cannot store result/);
  }, 30_000);
});
