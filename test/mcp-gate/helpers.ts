import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { createGateProxy, type GateProxy, type GateProxyOptions } from '@noxy-approval/mcp';
import type { LocalStack } from '@noxy-approval/testing';

export const root = fileURLToPath(new URL('../../', import.meta.url));
export const fsServer = join(root, 'node_modules/@modelcontextprotocol/server-filesystem/dist/index.js');
export const fakeUpstream = fileURLToPath(new URL('./fixtures/fake-upstream.mjs', import.meta.url));
export const cliBin = join(root, 'packages/mcp/dist/cli.js');

export type CallResult = Awaited<ReturnType<Client['callTool']>>;
export const text = (r: CallResult) => (r.content as { text: string }[])[0]?.text ?? '';

export const cleanups: (() => Promise<void> | void)[] = [];
export async function runCleanups(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) await c();
}

export function tempFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'noxy-gate-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The filesystem server (or another upstream) directly, as the baseline. */
export async function direct(args: string[]): Promise<Client> {
  const client = new Client({ name: 'direct', version: '1' });
  await client.connect(new StdioClientTransport({ command: process.execPath, args, stderr: 'ignore' }));
  cleanups.push(() => client.close().catch(() => undefined));
  return client;
}

/** An in-process gate proxy in front of `upstreamArgs` (spawned with node), and a host client. */
export async function gate(
  stack: LocalStack,
  upstreamArgs: string[],
  options: Partial<GateProxyOptions> = {},
): Promise<{ client: Client; proxy: GateProxy }> {
  const noxy = stack.newClient();
  cleanups.push(() => noxy.close());
  const proxy = await createGateProxy({
    upstream: { command: process.execPath, args: upstreamArgs, stderr: 'ignore' },
    client: noxy,
    identity: stack.identity,
    holdMs: 5_000,
    ...options,
  });
  const [hostSide, proxySide] = InMemoryTransport.createLinkedPair();
  await proxy.connect(proxySide);
  const client = new Client({ name: 'host', version: '1' });
  await client.connect(hostSide);
  cleanups.push(async () => {
    await client.close().catch(() => undefined);
    await proxy.close();
  });
  return { client, proxy };
}

export const decisionsTotal = (stack: LocalStack) => stack.relay.status().decisions.total;
