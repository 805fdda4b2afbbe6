/**
 * Matrix row F1: a canary — the app token, its signing secret and a wrong token made for the
 * purpose — threaded through processes that all run with `GRPC_TRACE=all GRPC_VERBOSITY=DEBUG`:
 * the real `noxy-relay` (file store), an agent process using the client with both tokens
 * (results and errors printed whole, causes included), a device, and `noxy-mcp` driven by an
 * MCP host with the canary token. Pass: 0 occurrences in any output, error, MCP result or store
 * file. (C1 checks its own six relay lives the same way.)
 */
import { fileURLToPath } from 'node:url';
import { createMemoryKeyStore, createNoxyDevice } from '@noxy-approval/device';
import { runCommand } from '@noxy-approval/testing';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterEach, describe, expect, it } from 'vitest';
import { ChildRelay, TRACE_ENV } from './child-relay.js';
import { figure } from './reconciler.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MCP = fileURLToPath(new URL('../../packages/mcp/dist/cli.js', import.meta.url));
const IDENTITY = 'alice@example.com';
// Shaped like a real token, so a redactor that matches token shapes is tested, not one that
// only knows the relay's own.
const CANARY = `noxy_app_CANARY${'7f3a9c'.repeat(6)}`;

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** The secrets found in `text`, by name. */
function leaks(text: string, secrets: Record<string, string>): string[] {
  return Object.entries(secrets)
    .filter(([, s]) => text.includes(s))
    .map(([name]) => name);
}

describe('F1: a canary token and secret under GRPC_TRACE=all', () => {
  it('0 occurrences in the relay, agent and noxy-mcp output, errors, MCP results and store files', async () => {
    const relay = await ChildRelay.create('f1');
    cleanup.push(() => relay.dispose());
    await relay.start();
    const secrets = { appToken: relay.app.appToken, signingSecret: relay.app.signingSecret, canary: CANARY };

    // A device (in this process) registers with the signing secret and answers what it gets.
    const device = await createNoxyDevice({
      relayUrl: relay.grpcUrl,
      appId: relay.app.appId,
      identity: IDENTITY,
      signingSecret: relay.app.signingSecret,
      keyStore: createMemoryKeyStore(),
    });
    cleanup.push(() => device.close());
    device.on('decision', (d) => void device.decide(d.decisionId, 'approve').catch(() => undefined));
    await device.connect();

    const agent = await runCommand([process.execPath, '--import', 'tsx', 'test/faults/fixtures/canary-agent.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        ...TRACE_ENV,
        F1_ENDPOINT: relay.grpcUrl,
        F1_TOKEN: relay.app.appToken,
        F1_CANARY: CANARY,
      },
      timeoutMs: 60_000,
    });
    expect(agent.stdout).toContain('F1 agent done');
    expect(agent.stdout).toMatch(/real sendDecision ok/);
    expect(agent.stdout).toMatch(/canary getQuota error/);

    // noxy-mcp with the canary as its token: the host sees the failure, never the token.
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [MCP],
      env: {
        PATH: process.env.PATH ?? '',
        ...TRACE_ENV,
        NOXY_ENDPOINT: relay.grpcUrl,
        NOXY_AUTH_TOKEN: CANARY,
        NOXY_IDENTITY: IDENTITY,
      },
      stderr: 'pipe',
    });
    const mcpStderr: string[] = [];
    transport.stderr?.on('data', (b: Buffer) => mcpStderr.push(b.toString()));
    const host = new Client({ name: 'f1-host', version: '1' });
    await host.connect(transport);
    let mcpResults = '';
    try {
      const args = { tool: 'deploy', args: { env: 'prod' }, title: 'F1 canary' };
      const result = await host.callTool({ name: 'request_human_approval', arguments: args });
      mcpResults = JSON.stringify(result);
      expect(result.isError).toBe(true);
    } finally {
      await host.close();
    }

    await relay.stop();
    const places: Record<string, string> = {
      'relay output': relay.output(),
      'agent output': `${agent.stdout}\n${agent.stderr}`,
      'noxy-mcp stderr': mcpStderr.join(''),
      'MCP results': mcpResults,
    };
    for (const f of await relay.storeFiles()) places[`store file ${f.name}`] = f.text;
    const found: string[] = [];
    for (const [place, text] of Object.entries(places)) {
      const hits = leaks(text, secrets);
      figure('F1', place, `${text.length} chars, ${hits.length ? `FOUND ${hits.join(', ')}` : '0 occurrences'}`);
      found.push(...hits.map((h) => `${h} in ${place}`));
    }
    // The trace was really on (else this row would prove nothing).
    expect(places['relay output']).toMatch(/D \d{4}-\d\d-\d\dT.*\| (v\d+\.\d+\.\d+ \d+ \| )?[a-z_]+ \|/);
    expect(places['agent output']).toMatch(/D \d{4}-\d\d-\d\dT/);
    // The store files too: the token is stored as a hash and the signing secret (the HMAC key
    // registrations are checked with) sealed under relay.key, so neither file holds either.
    expect(found).toEqual([]);
  });
});
