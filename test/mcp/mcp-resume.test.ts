import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { createNoxyClient, type ApprovalOutput } from '@noxy-approval/core';
import { createApprovalServer, serveHttp, type ApprovalServerOptions, type HttpEndpoint } from '@noxy-approval/mcp';
import { agent } from '@noxy-approval/proto';
import { AgentTestServer, startLocalStack, type LocalStack } from '@noxy-approval/testing';
import { afterEach, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../../packages/mcp/dist/cli.js', import.meta.url));
const request = { tool: 'transfer_funds', args: { to: 'bob', amount: 25 }, title: 'Send 25 to Bob' };
type CallResult = Awaited<ReturnType<Client['callTool']>>;
const output = (r: CallResult) => r.structuredContent as ApprovalOutput;
const text = (r: CallResult) => (r.content as { text: string }[])[0]!.text;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A `noxy-mcp` child process over stdio, as an MCP host runs it. */
async function spawnNoxyMcp(s: LocalStack) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [bin],
    env: {
      PATH: process.env.PATH ?? '',
      NOXY_ENDPOINT: s.relay.grpcUrl,
      NOXY_AUTH_TOKEN: s.appToken,
      NOXY_IDENTITY: String(s.identity),
      NOXY_HOLD_SECONDS: '1',
    },
    stderr: 'pipe',
  });
  const client = new Client({ name: 'stdio-host', version: '1' });
  await client.connect(transport);
  cleanups.push(() => client.close().catch(() => undefined));
  return { client, pid: transport.pid! };
}

describe('resuming a pending decision from another process', () => {
  it('survives a SIGKILL of noxy-mcp: a new process with the same configuration gets the outcome', async () => {
    const stack = await startLocalStack({ devices: [{ answer: 'never' }] });
    cleanups.push(() => stack.close());
    const first = await spawnNoxyMcp(stack);
    const pending = output(await first.client.callTool({ name: 'request_human_approval', arguments: request }));
    expect(pending.outcome).toBe('pending');
    process.kill(first.pid, 'SIGKILL');
    // While nobody waits, the human answers on the phone.
    const shown = stack.received[0]![0]!;
    expect(shown.decisionId).toBe(pending.decision_id);
    await stack.devices[0]!.decide(shown.decisionId, 'approve');

    const second = await spawnNoxyMcp(stack);
    // A bare decision id is known only where it was made: the handle is what travels.
    const bare = await second.client.callTool({
      name: 'check_human_approval',
      arguments: { decision_id: pending.decision_id },
    });
    expect(bare.isError).toBe(true);
    expect(text(bare)).toContain('NOT_FOUND');
    const args = { decision_id: pending.handle };
    const resumed = output(await second.client.callTool({ name: 'check_human_approval', arguments: args }));
    expect(resumed).toMatchObject({ outcome: 'approved', decision_id: pending.decision_id });
    expect(resumed.action_hash).toBe(pending.action_hash);
    expect(resumed.already_reported).toBeUndefined();
    // Reported once per process that knows it: the same process says so on a second check.
    const again = output(await second.client.callTool({ name: 'check_human_approval', arguments: args }));
    expect(again).toMatchObject({ outcome: 'approved', already_reported: true });
  }, 60_000);
});

describe('refusals without a relay call', () => {
  const identity = 'alice@example.com';
  const handleSecret = 'one secret shared by every replica';

  async function relayWithDevice() {
    const relay = await AgentTestServer.start();
    cleanups.push(() => relay.close());
    await relay.addDevices(identity, 1);
    const client = createNoxyClient({ endpoint: relay.endpoint, authToken: 'app-token', kem: 'mlkem' });
    cleanups.push(() => client.close());
    return { relay, client };
  }

  async function inMemory(options: ApprovalServerOptions) {
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    const host = new Client({ name: 'host', version: '1' });
    await Promise.all([createApprovalServer(options).connect(serverSide), host.connect(clientSide)]);
    cleanups.push(() => host.close());
    return host;
  }

  const polls = (relay: AgentTestServer) => relay.callsTo('GetDecisionOutcome').length;

  it('refuses forged, unknown and foreign references (another identity, another replica secret)', async () => {
    const { relay, client } = await relayWithDevice();
    const base = { client, identity, holdMs: 50, handleSecret };
    const host = await inMemory(base);
    const pending = output(await host.callTool({ name: 'request_human_approval', arguments: request }));
    expect(pending.outcome).toBe('pending');
    const before = polls(relay);
    const last = pending.handle.at(-1) === 'A' ? 'B' : 'A';
    const forged = pending.handle.slice(0, -1) + last;
    const mallory = await inMemory({ ...base, identity: 'mallory@example.com' });
    const otherSecret = await inMemory({ ...base, handleSecret: 'a different secret, another deployment' });
    const cases: [Client, string][] = [
      [host, forged],
      [host, '0b9a3c55-3a8e-4f51-9d7e-5b0f6f1f1c11'],
      [mallory, pending.handle],
      [mallory, pending.decision_id],
      [otherSecret, pending.handle],
    ];
    for (const [who, ref] of cases) {
      const r = await who.callTool({ name: 'check_human_approval', arguments: { decision_id: ref } });
      expect(r.isError, ref).toBe(true);
      expect(text(r)).toContain('NOT_FOUND');
    }
    expect(polls(relay)).toBe(before);
    // A replica with the same secret and identity resumes it.
    relay.setOutcome(pending.decision_id, [{ outcome: agent.DecisionOutcome.DECISION_OUTCOME_APPROVED }]);
    const replica = await inMemory(base);
    const resumed = await replica.callTool({
      name: 'check_human_approval',
      arguments: { decision_id: pending.handle },
    });
    expect(output(resumed).outcome).toBe('approved');
  });

  it("under --http without authentication, another session's check is NOT_FOUND and cannot consume it", async () => {
    const { relay, client } = await relayWithDevice();
    const http: HttpEndpoint = await serveHttp({
      createServer: () => createApprovalServer({ client, identity, holdMs: 50, handleSecret }),
      port: 0,
    });
    cleanups.push(() => http.close());
    const session = async () => {
      const c = new Client({ name: 'http-host', version: '1' });
      await c.connect(new StreamableHTTPClientTransport(new URL(http.url)));
      cleanups.push(() => c.close());
      return c;
    };
    const alice = await session();
    const pending = output(await alice.callTool({ name: 'request_human_approval', arguments: request }));
    relay.setOutcome(pending.decision_id, [{ outcome: agent.DecisionOutcome.DECISION_OUTCOME_APPROVED }]);
    const before = polls(relay);
    const other = await session();
    for (const ref of [pending.handle, pending.decision_id]) {
      const r = await other.callTool({ name: 'check_human_approval', arguments: { decision_id: ref } });
      expect(text(r)).toContain('NOT_FOUND');
    }
    expect(polls(relay)).toBe(before);
    // The approval is still the creator's, reported to it first.
    const mine = output(
      await alice.callTool({ name: 'check_human_approval', arguments: { decision_id: pending.handle } }),
    );
    expect(mine).toMatchObject({ outcome: 'approved' });
    expect(mine.already_reported).toBeUndefined();
  });

  it('with a bearer token, the principal owns its decisions across its sessions', async () => {
    const { relay, client } = await relayWithDevice();
    const bearerToken = 'http-bearer-token-for-tests';
    const http = await serveHttp({
      createServer: () => createApprovalServer({ client, identity, holdMs: 50, handleSecret }),
      port: 0,
      bearerToken,
    });
    cleanups.push(() => http.close());
    const session = async () => {
      const c = new Client({ name: 'http-host', version: '1' });
      const headers = { authorization: `Bearer ${bearerToken}` };
      await c.connect(new StreamableHTTPClientTransport(new URL(http.url), { requestInit: { headers } }));
      cleanups.push(() => c.close());
      return c;
    };
    const first = await session();
    const pending = output(await first.callTool({ name: 'request_human_approval', arguments: request }));
    relay.setOutcome(pending.decision_id, [{ outcome: agent.DecisionOutcome.DECISION_OUTCOME_APPROVED }]);
    const reconnected = await session();
    const r = await reconnected.callTool({ name: 'check_human_approval', arguments: { decision_id: pending.handle } });
    expect(output(r).outcome).toBe('approved');
  });
});
