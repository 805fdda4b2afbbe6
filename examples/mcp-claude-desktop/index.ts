/**
 * Example: `noxy-mcp` as Claude Desktop runs it, with this script playing the host. It starts the
 * local relay in this process (in-memory store), creates an app, pairs a device that approves by
 * itself (`--reject`: rejects), then spawns the built `noxy-mcp` (packages/mcp/dist/cli.js) over
 * stdio with the environment a `claude_desktop_config.json` gives it, and calls
 * `request_human_approval` through the MCP SDK's `Client`. Checks its own result: exit 0 only
 * when the tool answered the expected outcome, else 1.
 *
 * `npm run build && node --import tsx examples/mcp-claude-desktop/index.ts [--reject]`
 * @module
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { createMemoryKeyStore, createNoxyDevice } from '@noxy-approval/device';
import { startRelay } from '@noxy-approval/relay';

const identity = 'alice@example.com';
const answer = process.argv.includes('--reject') ? 'reject' : 'approve';
const say = (who: string, text: string) => console.log(`${who.padEnd(7)} ${text}`);
// The same file the config's "args" points at, in this checkout.
const cli = fileURLToPath(new URL('../../packages/mcp/dist/cli.js', import.meta.url));
if (!existsSync(cli)) {
  console.error(`noxy-mcp is not built (${cli} is missing): run \`npm run build\` first`);
  process.exit(1);
}

// What `noxy-relay start`, `noxy-relay app create` and pairing your phone give you.
const relay = await startRelay({ dataDir: ':memory:' });
const app = relay.createApp({ name: 'mcp-claude-desktop-example' });
say('relay', `listening on ${relay.grpcUrl} (app ${app.appId}; its token is never printed)`);
const pairing = relay.createPairing({ appId: app.appId, identity });
const device = await createNoxyDevice({
  relayUrl: relay.grpcUrl,
  appId: app.appId,
  identity,
  pairingCode: pairing.code,
  keyStore: createMemoryKeyStore(),
  transport: 'grpc',
});
device.on('decision', (d) => {
  const { tool, args } = d.payload as { tool: string; args: unknown };
  say('device', `asks the user: run ${tool} ${JSON.stringify(args)}? → ${answer}`);
  device.decide(d.decisionId, answer).catch((e: unknown) => say('device', `could not answer: ${String(e)}`));
});
await device.connect();
say('device', `paired as ${device.deviceId}`);

// The host: spawns the server the way the config's "command", "args" and "env" say.
const transport = new StdioClientTransport({
  command: process.execPath,
  args: [cli],
  env: {
    PATH: process.env.PATH ?? '',
    NOXY_ENDPOINT: relay.grpcUrl,
    NOXY_AUTH_TOKEN: app.appToken,
    NOXY_IDENTITY: identity,
  },
  stderr: 'pipe',
});
// noxy-mcp logs to stderr only (stdout is the protocol); shown for a failing run.
let serverLog = '';
transport.stderr?.on('data', (chunk: Buffer) => (serverLog += chunk.toString('utf8')));
const client = new Client({ name: 'claude-desktop-stand-in', version: '0.0.0' });
let ok = false;
try {
  await client.connect(transport);
  const { tools } = await client.listTools();
  say('host', `noxy-mcp over stdio; tools: ${tools.map((t) => t.name).join(', ')}`);
  const args = { service: 'api', version: '2.3.0', environment: 'production' };
  say('model', `calls request_human_approval for deploy_production ${JSON.stringify(args)}`);
  const result = await client.callTool({
    name: 'request_human_approval',
    arguments: { tool: 'deploy_production', args, title: 'Deploy api 2.3.0 to production' },
  });
  const out = result.structuredContent as { outcome?: string; message?: string } | undefined;
  say('host', `the model reads: ${out?.outcome ?? '?'}: ${out?.message ?? JSON.stringify(result.content)}`);
  const expected = answer === 'approve' ? 'approved' : 'rejected';
  ok = result.isError !== true && out?.outcome === expected;
  say('result', ok ? `ok: ${expected}, as expected` : `FAILED: expected ${expected}`);
} finally {
  await client.close().catch(() => undefined);
  device.close();
  await relay.close();
}
if (!ok && serverLog) console.error(`--- noxy-mcp stderr\n${serverLog}`);
process.exitCode = ok ? 0 : 1;
