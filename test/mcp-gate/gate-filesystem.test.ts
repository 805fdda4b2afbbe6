import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startLocalStack } from '@noxy-approval/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanups, decisionsTotal, direct, fsServer, gate, runCleanups, tempFolder, text } from './helpers.js';

afterEach(runCleanups);

async function stackWith(answer: 'approve' | 'reject' | 'never', delayMs = 0) {
  const stack = await startLocalStack({ devices: [{ answer, delayMs }] });
  cleanups.push(() => stack.close());
  return stack;
}

describe('noxy-mcp gate in front of the real mcp-server-filesystem', () => {
  it('passes tools/list through unchanged: names, JSON Schemas, outputSchema, annotations', async () => {
    const stack = await stackWith('approve');
    const dir = tempFolder();
    const plain = await direct([fsServer, dir]);
    const { client } = await gate(stack, [fsServer, dir]);
    const [a, b] = await Promise.all([plain.listTools(), client.listTools()]);
    expect(b).toEqual(a);
    expect(b.tools.find((t) => t.name === 'write_file')?.annotations?.readOnlyHint).toBe(false);
    expect(b.tools.some((t) => t.outputSchema !== undefined)).toBe(true);
    expect(client.getServerVersion()).toEqual(plain.getServerVersion());
  }, 30_000);

  it('runs read-only tools at once, without a decision', async () => {
    const stack = await stackWith('reject');
    const dir = tempFolder();
    writeFileSync(join(dir, 'notes.txt'), 'hello');
    const { client } = await gate(stack, [fsServer, dir]);
    const before = decisionsTotal(stack);
    const read = await client.callTool({ name: 'read_file', arguments: { path: join(dir, 'notes.txt') } });
    expect(read.isError).toBeFalsy();
    expect(text(read)).toBe('hello');
    const list = await client.callTool({ name: 'list_directory', arguments: { path: dir } });
    expect(text(list)).toContain('notes.txt');
    expect(decisionsTotal(stack)).toBe(before);
  }, 30_000);

  it('write_file approved on the phone: the file exists with the approved content', async () => {
    const stack = await stackWith('approve', 50);
    const dir = tempFolder();
    const { client } = await gate(stack, [fsServer, dir]);
    const path = join(dir, 'out.txt');
    const r = await client.callTool({ name: 'write_file', arguments: { path, content: 'approved text' } });
    expect(r.isError).toBeFalsy();
    expect(readFileSync(path, 'utf8')).toBe('approved text');
    expect(decisionsTotal(stack)).toBe(1);
    const shown = stack.received[0]![0]!;
    expect(JSON.stringify(shown)).toContain('approved text');
  }, 30_000);

  it('write_file rejected: an error the model reads, and no file', async () => {
    const stack = await stackWith('reject');
    const dir = tempFolder();
    const { client } = await gate(stack, [fsServer, dir]);
    const path = join(dir, 'out.txt');
    const r = await client.callTool({ name: 'write_file', arguments: { path, content: 'x' } });
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/rejected/i);
    expect(existsSync(path)).toBe(false);
  }, 30_000);

  it('write_file expired (short TTL, nobody answers): no file', async () => {
    const stack = await stackWith('never');
    const dir = tempFolder();
    const { client } = await gate(stack, [fsServer, dir], { ttlSeconds: 1, holdMs: 4_000 });
    const path = join(dir, 'out.txt');
    const r = await client.callTool({ name: 'write_file', arguments: { path, content: 'x' } });
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/expired|deadline/i);
    expect(existsSync(path)).toBe(false);
  }, 30_000);

  it('pending, then the same call again resumes the same decision and writes once approved', async () => {
    const stack = await stackWith('never');
    const dir = tempFolder();
    const { client } = await gate(stack, [fsServer, dir], { holdMs: 500 });
    const path = join(dir, 'out.txt');
    const call = { name: 'write_file', arguments: { path, content: 'v1' } };
    const pending = await client.callTool(call);
    expect(pending.isError).toBe(true);
    expect(text(pending)).toMatch(/^PENDING: .*call write_file again with exactly the same arguments/s);
    expect(existsSync(path)).toBe(false);
    await stack.devices[0]!.decide(stack.received[0]![0]!.decisionId, 'approve');
    const done = await client.callTool(call);
    expect(done.isError).toBeFalsy();
    expect(readFileSync(path, 'utf8')).toBe('v1');
    expect(decisionsTotal(stack)).toBe(1);
    // Used up: the same call once more is a new decision, not a replay of the approval.
    const again = await client.callTool(call);
    expect(text(again)).toMatch(/^PENDING/);
    expect(decisionsTotal(stack)).toBe(2);
  }, 30_000);

  it('changed arguments between pending and the retry: a new decision, not the old approval', async () => {
    const stack = await stackWith('never');
    const dir = tempFolder();
    const { client } = await gate(stack, [fsServer, dir], { holdMs: 500 });
    const path = join(dir, 'out.txt');
    const first = await client.callTool({ name: 'write_file', arguments: { path, content: 'harmless' } });
    expect(text(first)).toMatch(/^PENDING/);
    await stack.devices[0]!.decide(stack.received[0]![0]!.decisionId, 'approve');
    const changed = await client.callTool({ name: 'write_file', arguments: { path, content: 'evil' } });
    expect(text(changed)).toMatch(/^PENDING/);
    expect(decisionsTotal(stack)).toBe(2);
    expect(existsSync(path)).toBe(false);
    expect(JSON.stringify(stack.received[0]![1])).toContain('evil');
  }, 30_000);

  it('a cancel from the host aborts the wait: no write, even if approved later', async () => {
    const stack = await stackWith('never');
    const dir = tempFolder();
    const { client } = await gate(stack, [fsServer, dir], { holdMs: 10_000 });
    const path = join(dir, 'out.txt');
    const abort = new AbortController();
    const call = client.callTool({ name: 'write_file', arguments: { path, content: 'x' } }, undefined, {
      signal: abort.signal,
    });
    while (stack.received[0]!.length === 0) await new Promise((r) => setTimeout(r, 20));
    abort.abort('user cancelled');
    await expect(call).rejects.toThrow(/cancelled/);
    await stack.devices[0]!.decide(stack.received[0]![0]!.decisionId, 'approve');
    await new Promise((r) => setTimeout(r, 300));
    expect(existsSync(path)).toBe(false);
    // The proxy still works.
    const list = await client.callTool({ name: 'list_directory', arguments: { path: dir } });
    expect(list.isError).toBeFalsy();
  }, 30_000);
});
