/**
 * `noxy-mcp gate` against the real `mcp-server-filesystem`, both over stdio, in the same run:
 * the proxy's overhead on an ungated `read_file` (median latency, proxied vs direct, target
 * ≤ 1.3×) and its cold start (spawn → tools/list answered, target ≤ 1.5× the upstream's own).
 * @module
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { median, report } from './report.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const fsServer = join(root, 'node_modules/@modelcontextprotocol/server-filesystem/dist/index.js');
const cli = join(root, 'packages/mcp/dist/cli.js');
const env = {
  PATH: process.env.PATH ?? '',
  NOXY_ENDPOINT: 'http://127.0.0.1:9', // unreachable on purpose: ungated calls and startup never touch the relay
  NOXY_AUTH_TOKEN: 'bench-token',
  NOXY_IDENTITY: 'alice@example.com',
};

const directArgs = (dir: string) => [fsServer, dir];
const gateArgs = (dir: string) => [cli, 'gate', '--', process.execPath, fsServer, dir];

async function start(args: string[]): Promise<{ client: Client; ms: number }> {
  const begin = performance.now();
  const transport = new StdioClientTransport({ command: process.execPath, args, env, cwd: root, stderr: 'ignore' });
  const client = new Client({ name: 'bench', version: '0' });
  await client.connect(transport);
  const { tools } = await client.listTools();
  if (tools.length === 0) throw new Error('no tools listed');
  return { client, ms: performance.now() - begin };
}

/** Runs the gate benchmarks (needs `npm run build` first). */
export async function benchMcpGate(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'noxy-gate-bench-'));
  try {
    const file = join(dir, 'notes.txt');
    writeFileSync(file, 'x'.repeat(1024));

    const coldGate: number[] = [];
    const coldDirect: number[] = [];
    for (let i = 0; i < 7; i++) {
      const d = await start(directArgs(dir));
      coldDirect.push(d.ms);
      await d.client.close();
      const g = await start(gateArgs(dir));
      coldGate.push(g.ms);
      await g.client.close();
    }

    const direct = (await start(directArgs(dir))).client;
    const proxied = (await start(gateArgs(dir))).client;
    const read = async (client: Client) => {
      const begin = performance.now();
      const r = await client.callTool({ name: 'read_file', arguments: { path: file } });
      if (r.isError) throw new Error('read_file failed');
      return performance.now() - begin;
    };
    for (let i = 0; i < 30; i++) {
      await read(direct);
      await read(proxied);
    }
    const viaGate: number[] = [];
    const plain: number[] = [];
    // Alternating, so noise on the shared machine hits both alike.
    for (let i = 0; i < 300; i++) {
      plain.push(await read(direct));
      viaGate.push(await read(proxied));
    }
    await direct.close();
    await proxied.close();

    const overhead = median(viaGate);
    const baseline = median(plain);
    report({
      name: 'noxy-mcp gate: ungated read_file over stdio (median latency)',
      value: overhead,
      unit: 'ms',
      baseline: { label: 'mcp-server-filesystem direct', value: baseline },
      target: '≤ 1.3× baseline',
      ok: overhead <= 1.3 * baseline,
    });
    const cold = median(coldGate);
    const coldBase = median(coldDirect);
    report({
      name: 'noxy-mcp gate cold start (spawn → tools/list over stdio)',
      value: cold,
      unit: 'ms',
      baseline: { label: 'mcp-server-filesystem cold start', value: coldBase },
      target: '≤ 1.5× baseline',
      ok: cold <= 1.5 * coldBase,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
