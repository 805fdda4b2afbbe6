import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../../packages/mcp/dist/cli.js', import.meta.url));

describe('what the operator of noxy-mcp sees on stderr', () => {
  it('a masked identity in the ready line, a hold warning, and relay failures (never the token)', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as { port: number };
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const token = 'app-token-that-must-not-leak';
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [bin],
      env: {
        PATH: process.env.PATH ?? '',
        NOXY_ENDPOINT: `http://127.0.0.1:${port}`,
        NOXY_AUTH_TOKEN: token,
        NOXY_IDENTITY: 'alice@example.com',
        NOXY_HOLD_SECONDS: '58',
      },
      stderr: 'pipe',
    });
    const stderr: string[] = [];
    transport.stderr?.on('data', (b: Buffer) => stderr.push(b.toString()));
    const client = new Client({ name: 'stdio-host', version: '1' });
    await client.connect(transport);
    try {
      const args = { tool: 'deploy', args: { env: 'prod' }, title: 'Deploy to prod' };
      const result = await client.callTool({ name: 'request_human_approval', arguments: args });
      expect(result.isError).toBe(true);
    } finally {
      await client.close();
    }
    const log = stderr.join('');
    expect(log).toContain('stdio ready (asking email al…e@example.com,');
    expect(log).not.toContain('alice@example.com');
    expect(log).toContain('warning: NOXY_HOLD_SECONDS=58 is above 55');
    expect(log).toMatch(/request_human_approval failed: .*cannot reach the relay at http:\/\/127\.0\.0\.1:\d+/);
    expect(log).not.toContain(token);
  }, 30_000);
});
