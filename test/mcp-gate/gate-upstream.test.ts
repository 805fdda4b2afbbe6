import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startLocalStack } from '@noxy-approval/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cleanups, decisionsTotal, fakeUpstream, gate, runCleanups, tempFolder, text } from './helpers.js';

afterEach(runCleanups);

/** Whether the host lists the tools first: then ungated calls take the fast lane (fast-lane.ts), else the SDK path. */
let listFirst = false;

async function setup(options: Parameters<typeof gate>[2] = {}, answer: 'approve' | 'reject' | 'never' = 'approve') {
  const stack = await startLocalStack({ devices: [{ answer }] });
  cleanups.push(() => stack.close());
  const dir = tempFolder();
  const { client, proxy } = await gate(stack, [fakeUpstream, dir], options);
  if (listFirst) await client.listTools();
  return { stack, dir, client, proxy };
}

describe('noxy-mcp gate: which lane an ungated call takes', () => {
  it('a listed ungated tool is relayed as a message (the lane id reaches the upstream); else via the SDK', async () => {
    listFirst = false;
    const { client, stack } = await setup({}, 'approve');
    const viaSdk = JSON.parse(text(await client.callTool({ name: 'request_id', arguments: {} })));
    expect(typeof viaSdk).toBe('number');
    // That call listed the tools (to read the annotations): the next one takes the fast lane.
    const fast = JSON.parse(text(await client.callTool({ name: 'request_id', arguments: {} })));
    expect(fast).toMatch(/^noxy-gate-\d+$/);
    // A gated tool never does, listed or not.
    expect(text(await client.callTool({ name: 'send', arguments: { to: 'bob', amount: 1 } }))).toBe('sent 1 to bob');
    expect(decisionsTotal(stack)).toBe(1);
  });

  it('a "__proto__" key in the arguments is refused before either lane, naming its path', async () => {
    listFirst = true;
    const { client, dir } = await setup();
    const r = await client.callTool({ name: 'send', arguments: JSON.parse('{"to":"bob","amount":1,"__proto__":{}}') });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain('"__proto__" (arguments.__proto__) is not accepted');
    const slow = await client.callTool({ name: 'slow', arguments: JSON.parse('{"steps":1,"__proto__":{"x":1}}') });
    expect(text(slow)).toContain('is not accepted');
    expect(existsSync(join(dir, 'sent-bob-1'))).toBe(false);
  });
});

describe.each([
  ['through the SDK', false],
  ['on the fast lane', true],
])('noxy-mcp gate %s: progress, cancellation, _meta and the upstream lifecycle', (_lane, listed) => {
  beforeEach(() => {
    listFirst = listed;
  });

  it('forwards the upstream progress to the host', async () => {
    const { client } = await setup();
    const seen: number[] = [];
    const r = await client.callTool({ name: 'slow', arguments: { steps: 4 } }, undefined, {
      onprogress: (p) => seen.push(p.progress),
    });
    expect(text(r)).toBe('done 4');
    expect(seen).toEqual([1, 2, 3, 4]);
  });

  it('forwards a cancel from the host to the upstream', async () => {
    const { client, dir } = await setup();
    const abort = new AbortController();
    const call = client.callTool({ name: 'slow', arguments: { steps: 100 } }, undefined, {
      signal: abort.signal,
      onprogress: (p) => {
        if (p.progress === 3) abort.abort('user cancelled');
      },
    });
    await expect(call).rejects.toThrow(/cancelled/);
    const marker = join(dir, 'cancelled');
    for (let i = 0; i < 50 && !existsSync(marker); i++) await new Promise((r) => setTimeout(r, 20));
    expect(Number(readFileSync(marker, 'utf8'))).toBeLessThan(10);
  });

  it('keeps the host _meta (without its progress token)', async () => {
    const { client } = await setup();
    const r = await client.callTool({ name: 'meta', arguments: {}, _meta: { 'example.com/trace': 'abc' } });
    expect(JSON.parse(text(r))).toEqual({ 'example.com/trace': 'abc' });
  });

  it('gates an unannotated tool (fail closed) and forwards it once approved, exactly as approved', async () => {
    const { client, dir, stack } = await setup({}, 'approve');
    const r = await client.callTool({ name: 'send', arguments: { to: 'bob', amount: 25 } });
    expect(text(r)).toBe('sent 25 to bob');
    expect(existsSync(join(dir, 'sent-bob-25'))).toBe(true);
    expect(decisionsTotal(stack)).toBe(1);
  });

  it('an argument predicate gates only the calls it matches', async () => {
    const rules = { tools: { send: { when: { amount: { gt: 100 } } } } };
    const { client, dir, stack } = await setup({ rules }, 'reject');
    expect(text(await client.callTool({ name: 'send', arguments: { to: 'bob', amount: 5 } }))).toBe('sent 5 to bob');
    expect(decisionsTotal(stack)).toBe(0);
    const big = await client.callTool({ name: 'send', arguments: { to: 'bob', amount: 500 } });
    expect(big.isError).toBe(true);
    expect(existsSync(join(dir, 'sent-bob-500'))).toBe(false);
    expect(decisionsTotal(stack)).toBe(1);
  });

  it('an upstream killed mid-call is a clear tool error, and the next call works on a new one', async () => {
    const { client, proxy } = await setup();
    const before = await proxy.upstreamPid();
    const r = await client.callTool({ name: 'crash', arguments: {} });
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/upstream MCP server stopped during crash/);
    const pid = await client.callTool({ name: 'pid', arguments: {} });
    expect(pid.isError).toBeFalsy();
    expect(Number(text(pid))).not.toBe(before);
  });

  it('an upstream killed by a signal while a call runs: error, then restarted', async () => {
    const { client, proxy } = await setup();
    const call = client.callTool({ name: 'slow', arguments: { steps: 200 } });
    await new Promise((r) => setTimeout(r, 200));
    process.kill((await proxy.upstreamPid())!, 'SIGKILL');
    const r = await call;
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/stopped during slow/);
    expect(text(await client.callTool({ name: 'slow', arguments: { steps: 1 } }))).toBe('done 1');
  });

  it('a hung upstream call is cut after upstreamTimeoutMs, and the next call works', async () => {
    const { client } = await setup({ upstreamTimeoutMs: 400 });
    const r = await client.callTool({ name: 'hang', arguments: {} });
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/did not answer hang within/);
    expect(text(await client.callTool({ name: 'slow', arguments: { steps: 1 } }))).toBe('done 1');
  });
});
