import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { ApprovalOutput } from '@noxy-approval/core';
import { createApprovalServer, serveHttp, type HttpEndpoint } from '@noxy-approval/mcp';
import { afterEach, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '@noxy-approval/testing';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = `${root}packages/mcp/dist/cli.js`;
const request = { tool: 'transfer_funds', args: { to: 'bob', amount: 25 }, title: 'Send 25 to Bob' };

let stack: LocalStack | undefined;
let http: HttpEndpoint | undefined;
afterEach(async () => {
  await http?.close();
  await stack?.close();
  http = undefined;
  stack = undefined;
});

function envFor(s: LocalStack): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    NOXY_ENDPOINT: s.relay.grpcUrl,
    NOXY_AUTH_TOKEN: s.appToken,
    NOXY_IDENTITY: String(s.identity),
    NOXY_HOLD_SECONDS: '20',
  };
}

describe('noxy-mcp over stdio (spawned bin)', () => {
  it('lists the tools and gets an approval from the device', async () => {
    stack = await startLocalStack({ devices: [{ answer: 'approve' }] });
    const stderr: string[] = [];
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [bin],
      env: envFor(stack),
      stderr: 'pipe',
    });
    transport.stderr?.on('data', (b: Buffer) => stderr.push(b.toString()));
    const client = new Client({ name: 'stdio-host', version: '1' });
    await client.connect(transport);
    try {
      expect((await client.listTools()).tools.map((t) => t.name)).toContain('request_human_approval');
      const result = await client.callTool({ name: 'request_human_approval', arguments: request });
      expect((result.structuredContent as ApprovalOutput).outcome).toBe('approved');
    } finally {
      await client.close();
    }
    expect(stderr.join('')).not.toContain(stack.appToken);
  });

  it('refuses to start on bad configuration with one message per problem, never printing the token', async () => {
    const run = promisify(execFile);
    const env = {
      PATH: process.env.PATH ?? '',
      NOXY_ENDPOINT: 'http://relay.example.com',
      NOXY_AUTH_TOKEN: 'sec ret\r\ntoken',
      NOXY_IDENTITY: 'not an email@',
    };
    const failure = await run(process.execPath, [bin], { env }).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(failure?.code).toBe(2);
    const lines = failure!.stderr.trim().split('\n');
    expect(lines.some((l) => l.includes('NOXY_ENDPOINT') && l.includes('https://'))).toBe(true);
    expect(lines.some((l) => l.includes('NOXY_AUTH_TOKEN'))).toBe(true);
    expect(lines.some((l) => l.includes('NOXY_IDENTITY'))).toBe(true);
    expect(failure!.stderr).not.toContain('sec ret');
  });
});

describe('Streamable HTTP', () => {
  it('serves the tools per session and gets a rejection from the device', async () => {
    stack = await startLocalStack({ devices: [{ answer: 'reject' }] });
    const s = stack;
    http = await serveHttp({
      createServer: () => createApprovalServer({ client: s.client, identity: s.identity }),
      port: 0,
    });
    const client = new Client({ name: 'http-host', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(http.url)));
    try {
      const result = await client.callTool({ name: 'request_human_approval', arguments: request });
      expect((result.structuredContent as ApprovalOutput).outcome).toBe('rejected');
    } finally {
      await client.close();
    }
  });
});

describe('MCP Inspector CLI', () => {
  it('lists the tools and calls one against the local relay (JSON output parsed)', async () => {
    stack = await startLocalStack({ devices: [{ answer: 'approve' }] });
    const run = promisify(execFile);
    const inspector = `${root}node_modules/.bin/mcp-inspector`;
    const envArgs = Object.entries(envFor(stack)).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    const list = await run(inspector, ['--cli', ...envArgs, process.execPath, bin, '--method', 'tools/list'], {
      timeout: 60_000,
    });
    const tools = (JSON.parse(list.stdout) as { tools: { name: string }[] }).tools.map((t) => t.name);
    expect(tools.sort()).toEqual(['check_human_approval', 'request_human_approval']);
    const call = await run(
      inspector,
      [
        '--cli',
        ...envArgs,
        process.execPath,
        bin,
        '--method',
        'tools/call',
        '--tool-name',
        'request_human_approval',
        '--tool-arg',
        'tool=deploy',
        '--tool-arg',
        'args={"service":"api","version":"1.2.3"}',
        '--tool-arg',
        'title=Deploy api 1.2.3',
      ],
      { timeout: 60_000 },
    );
    const result = JSON.parse(call.stdout) as { isError?: boolean; structuredContent?: ApprovalOutput };
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent?.outcome).toBe('approved');
    expect(stack.received[0]![0]!.payload).toMatchObject({
      tool: 'deploy',
      args: { service: 'api', version: '1.2.3' },
    });
  }, 90_000);
});
