import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { mergeRules, needsApproval, parseGateConfig } from '@noxy-approval/mcp';
import { startLocalStack } from '@noxy-approval/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanups, cliBin, decisionsTotal, fsServer, runCleanups, tempFolder, text } from './helpers.js';

afterEach(runCleanups);

const readOnly = { annotations: { readOnlyHint: true } };
const writes = { annotations: { readOnlyHint: false } };

describe('which calls the gate asks about', () => {
  it('by default: everything not annotated readOnlyHint: true, unannotated included (fail closed)', () => {
    expect(needsApproval({}, 'read_file', readOnly, {}).gated).toBe(false);
    expect(needsApproval({}, 'write_file', writes, {}).gated).toBe(true);
    expect(needsApproval({}, 'mystery', {}, {}).gated).toBe(true);
    expect(needsApproval({}, 'unknown', undefined, {}).gated).toBe(true);
    expect(needsApproval({}, 'odd', { annotations: { destructiveHint: false } }, {}).gated).toBe(true);
  });

  it('globs override annotations; the most specific pattern wins, gate on a tie', () => {
    const rules = mergeRules(undefined, { gate: ['*'], allow: ['read_*', 'list_directory'] });
    expect(needsApproval(rules, 'read_file', readOnly, {})).toEqual({ gated: false, by: 'read_*' });
    expect(needsApproval(rules, 'list_directory', readOnly, {}).gated).toBe(false);
    expect(needsApproval(rules, 'directory_tree', readOnly, {}).gated).toBe(true);
    expect(needsApproval({ gate: ['read_*'], allow: ['read_*'] }, 'read_file', readOnly, {}).gated).toBe(true);
    expect(needsApproval({ allow: ['write_file'] }, 'write_file', writes, {}).gated).toBe(false);
  });

  it('argument predicates: startsWith, numeric thresholds, several conditions, fail closed on type', () => {
    const config = parseGateConfig({
      tools: {
        write_file: { when: { path: { startsWith: '/etc' } } },
        transfer: { when: [{ amount: { gt: 100 } }, { 'to.country': { in: ['XX'] } }] },
      },
    });
    const rules = mergeRules(config, {});
    expect(needsApproval(rules, 'write_file', writes, { path: '/etc/hosts' }).gated).toBe(true);
    expect(needsApproval(rules, 'write_file', writes, { path: '/tmp/x' }).gated).toBe(false);
    expect(needsApproval(rules, 'write_file', writes, { path: 42 }).gated).toBe(true);
    expect(needsApproval(rules, 'write_file', writes, {}).gated).toBe(false);
    expect(needsApproval(rules, 'transfer', {}, { amount: 100 }).gated).toBe(false);
    expect(needsApproval(rules, 'transfer', {}, { amount: 100.5 }).gated).toBe(true);
    expect(needsApproval(rules, 'transfer', {}, { amount: '5' }).gated).toBe(true);
    expect(needsApproval(rules, 'transfer', {}, { amount: 5, to: { country: 'XX' } }).gated).toBe(true);
  });

  it('a bad config names the field', () => {
    expect(() => parseGateConfig({ tools: { w: { when: { path: { startswith: '/' } } } } }, 'rules.json')).toThrow(
      /rules\.json: "tools\.w/,
    );
    expect(() => parseGateConfig({ tools: { w: { when: { amount: { gt: '100' } } } } })).toThrow(
      /"tools\.w\.when\.amount\.gt"/,
    );
    expect(() => parseGateConfig({ gates: ['*'] })).toThrow(/gates|\(root\)/);
    expect(() => parseGateConfig({ tools: { w: 'maybe' } })).toThrow(/"tools\.w"/);
  });
});

describe('the noxy-mcp gate command', () => {
  it('refuses a bad rules file at start, naming the field', () => {
    const dir = tempFolder();
    const file = join(dir, 'rules.json');
    writeFileSync(file, JSON.stringify({ tools: { write_file: { when: { amount: { gt: 'lots' } } } } }));
    const r = spawnSync(process.execPath, [cliBin, 'gate', '--config', file, '--', 'true'], {
      encoding: 'utf8',
      timeout: 15_000,
      env: { PATH: process.env.PATH ?? '' },
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('"tools.write_file.when.amount.gt"');
  });

  it('runs over stdio with the upstream after --: read at once, write after approval', async () => {
    const stack = await startLocalStack({ devices: [{ answer: 'approve' }] });
    cleanups.push(() => stack.close());
    const dir = tempFolder();
    writeFileSync(join(dir, 'in.txt'), 'in');
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [cliBin, 'gate', '--allow', 'list_*', '--', process.execPath, fsServer, dir],
      env: {
        PATH: process.env.PATH ?? '',
        NOXY_ENDPOINT: stack.relay.grpcUrl,
        NOXY_AUTH_TOKEN: stack.appToken,
        NOXY_IDENTITY: String(stack.identity),
        NOXY_HOLD_SECONDS: '5',
      },
      stderr: 'ignore',
    });
    const client = new Client({ name: 'stdio-host', version: '1' });
    await client.connect(transport);
    cleanups.push(() => client.close().catch(() => undefined));
    expect(text(await client.callTool({ name: 'read_text_file', arguments: { path: join(dir, 'in.txt') } }))).toBe(
      'in',
    );
    expect(decisionsTotal(stack)).toBe(0);
    const path = join(dir, 'out.txt');
    const r = await client.callTool({ name: 'write_file', arguments: { path, content: 'via cli' } });
    expect(r.isError).toBeFalsy();
    expect(readFileSync(path, 'utf8')).toBe('via cli');
    expect(decisionsTotal(stack)).toBe(1);
  }, 30_000);
});
