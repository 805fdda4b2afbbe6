/**
 * `noxy-mcp` cold start: spawn → `tools/list` answered over stdio, against a minimal MCP SDK
 * stdio server with one tool, alternating the two so noise hits both alike (target ≤ 1.5×).
 * @module
 */
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { median, report } from './report.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

async function coldStart(args: string[], env: Record<string, string>): Promise<number> {
  const start = performance.now();
  const transport = new StdioClientTransport({ command: process.execPath, args, env, cwd: root, stderr: 'ignore' });
  const client = new Client({ name: 'bench', version: '0' });
  await client.connect(transport);
  const { tools } = await client.listTools();
  const elapsed = performance.now() - start;
  await client.close();
  if (tools.length === 0) throw new Error('no tools listed');
  return elapsed;
}

/** Runs the cold-start benchmark (needs `npm run build` first). */
export async function benchMcpColdStart(): Promise<void> {
  const env = {
    PATH: process.env.PATH ?? '',
    NOXY_ENDPOINT: 'http://127.0.0.1:9', // unreachable on purpose: startup must not wait for the relay
    NOXY_AUTH_TOKEN: 'bench-token',
    NOXY_IDENTITY: 'alice@example.com',
  };
  const ours: number[] = [];
  const base: number[] = [];
  for (let i = 0; i < 7; i++) {
    base.push(await coldStart([`${root}test/bench/fixtures/minimal-mcp-server.mjs`], { PATH: env.PATH }));
    ours.push(await coldStart([`${root}packages/mcp/dist/cli.js`], env));
  }
  const value = median(ours);
  const baseline = median(base);
  report({
    name: 'noxy-mcp cold start (spawn → tools/list over stdio)',
    value,
    unit: 'ms',
    baseline: { label: 'minimal MCP SDK stdio server', value: baseline },
    target: '≤ 1.5× baseline',
    ok: value <= 1.5 * baseline,
  });
}
