import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { createGateProxy } from '@noxy-approval/mcp';
import { startLocalStack } from '@noxy-approval/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanups, fakeUpstream, gate, runCleanups, tempFolder, text } from './helpers.js';

afterEach(runCleanups);

// Requests from the upstream to the host (roots, sampling, elicitation) cross the gate both ways,
// so a proxied server sees the host as if it were connected directly.
describe('noxy-mcp gate: the upstream asks the host', () => {
  it('roots, sampling and elicitation reach the host and its answers reach the upstream', async () => {
    const stack = await startLocalStack();
    cleanups.push(() => stack.close());
    const dir = tempFolder();
    const noxy = stack.newClient();
    cleanups.push(() => noxy.close());
    const proxy = await createGateProxy({
      upstream: { command: process.execPath, args: [fakeUpstream, dir], stderr: 'ignore' },
      client: noxy,
      identity: stack.identity,
    });
    const [hostSide, proxySide] = InMemoryTransport.createLinkedPair();
    await proxy.connect(proxySide);
    const host = new Client(
      { name: 'host', version: '1' },
      { capabilities: { roots: { listChanged: true }, sampling: {}, elicitation: {} } },
    );
    const asked: string[] = [];
    host.setRequestHandler(ListRootsRequestSchema, async () => {
      asked.push('roots');
      return { roots: [{ uri: `file://${dir}`, name: 'work' }] };
    });
    host.setRequestHandler(CreateMessageRequestSchema, async (r) => {
      asked.push(`sample:${(r.params.messages[0]!.content as { text: string }).text}`);
      return { role: 'assistant', model: 'host-model', content: { type: 'text', text: 'hi' } };
    });
    host.setRequestHandler(ElicitRequestSchema, async (r) => {
      asked.push(`elicit:${r.params.message}`);
      return { action: 'accept', content: { name: 'Alice' } };
    });
    await host.connect(hostSide);
    cleanups.push(async () => {
      await host.close().catch(() => undefined);
      await proxy.close();
    });

    const ask = async (what: string) => {
      const r = await host.callTool({ name: 'ask_host', arguments: { what } });
      expect(r.isError, text(r)).toBeFalsy();
      return JSON.parse(text(r)) as { capabilities: Record<string, unknown>; answer: Record<string, unknown> };
    };
    const roots = await ask('roots');
    expect(roots.capabilities).toMatchObject({ roots: { listChanged: true }, sampling: {}, elicitation: {} });
    expect(roots.answer).toEqual({ roots: [{ uri: `file://${dir}`, name: 'work' }] });
    expect((await ask('sample')).answer).toMatchObject({ model: 'host-model', content: { text: 'hi' } });
    expect((await ask('elicit')).answer).toEqual({ action: 'accept', content: { name: 'Alice' } });
    expect(asked).toEqual(['roots', 'sample:say hi', 'elicit:Your name?']);
  });

  it('a host that offers none of them: the upstream is told so, and its request fails', async () => {
    const stack = await startLocalStack();
    cleanups.push(() => stack.close());
    const { client } = await gate(stack, [fakeUpstream, tempFolder()]);
    const r = await client.callTool({ name: 'ask_host', arguments: { what: 'roots' } });
    expect(r.isError).toBe(true);
    // The upstream's client declared no roots, so it has no handler for them: Method not found.
    expect(text(r)).toMatch(/failed: MCP error -32601/);
  });
});
