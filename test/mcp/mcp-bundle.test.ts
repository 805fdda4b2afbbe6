// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${…} is mcpb's placeholder syntax, not a template
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { ApprovalOutput } from '@noxy-approval/core';
import { startLocalStack, type LocalStack } from '@noxy-approval/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// `npm run bundle:mcpb` end to end: build the .mcpb, validate and unpack it with mcpb itself,
// then run the unpacked server the way Claude Desktop does (manifest's mcp_config, user_config
// substituted) against a local relay. Packing copies ~140 packages: about 5–15 s here.
const root = fileURLToPath(new URL('../../', import.meta.url));
const mcpb = join(root, 'node_modules', '.bin', 'mcpb');
const run = promisify(execFile);

interface Manifest {
  name: string;
  version: string;
  server: { entry_point: string; mcp_config: { command: string; args: string[]; env: Record<string, string> } };
  user_config: Record<string, { sensitive?: boolean; required?: boolean; type: string }>;
}
interface PackageJson {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;

/** Every package folder under a node_modules tree (scoped and nested included), bounded by the tree. */
function packagesUnder(modules: string): { dir: string; pkg: PackageJson }[] {
  const found: { dir: string; pkg: PackageJson }[] = [];
  const visit = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (entry.name.startsWith('@')) {
        visit(path);
        continue;
      }
      if (existsSync(join(path, 'package.json'))) found.push({ dir: path, pkg: readJson(join(path, 'package.json')) });
      visit(join(path, 'node_modules'));
    }
  };
  visit(modules);
  return found;
}

let work: string;
let unpacked: string;
let manifest: Manifest;
let stack: LocalStack | undefined;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'noxy-mcpb-test-'));
  const { stdout } = await run(process.execPath, [join(root, 'scripts', 'bundle-mcpb.mjs'), '--out', work], {
    timeout: 90_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  const file = stdout.trim().split('\n').at(-1)!;
  expect(file).toBe(join(work, 'noxy-approval-0.1.0.mcpb'));
  unpacked = join(work, 'unpacked');
  await run(mcpb, ['unpack', file, unpacked], { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
  manifest = readJson(join(unpacked, 'manifest.json'));
}, 120_000);

afterAll(async () => {
  await stack?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the .mcpb bundle of noxy-mcp', () => {
  it('validates with mcpb and matches the package version', async () => {
    const { stdout } = await run(mcpb, ['validate', join(unpacked, 'manifest.json')], { timeout: 30_000 });
    expect(stdout).toContain('validation passes');
    const pkg = readJson<PackageJson>(join(root, 'packages', 'mcp', 'package.json'));
    expect(manifest.version).toBe(pkg.version);
    expect(readJson<Manifest>(join(root, 'packages', 'mcp', 'mcpb', 'manifest.json')).version).toBe(pkg.version);
    expect(existsSync(join(unpacked, manifest.server.entry_point))).toBe(true);
  });

  it('asks for endpoint, identity, TTL, signatures, a sensitive token: each a variable noxy-mcp reads', () => {
    const { user_config: config, server } = manifest;
    expect(Object.keys(config).sort()).toEqual([
      'auth_token',
      'endpoint',
      'identity',
      'require_device_signature',
      'ttl_seconds',
    ]);
    expect(config.auth_token!.sensitive).toBe(true);
    for (const [key, entry] of Object.entries(config)) if (key !== 'auth_token') expect(entry.sensitive).not.toBe(true);
    expect(server.mcp_config.env).toEqual({
      NOXY_ENDPOINT: '${user_config.endpoint}',
      NOXY_AUTH_TOKEN: '${user_config.auth_token}',
      NOXY_IDENTITY: '${user_config.identity}',
      NOXY_DECISION_TTL_SECONDS: '${user_config.ttl_seconds}',
      NOXY_REQUIRE_DEVICE_SIGNATURE: '${user_config.require_device_signature}',
    });
  });

  it('holds no devDependency: every bundled package is a production dependency of another bundled one', () => {
    const bundled = packagesUnder(join(unpacked, 'node_modules'));
    const names = new Set(bundled.map((b) => b.pkg.name));
    expect(names.has('@noxy-approval/mcp')).toBe(true);
    expect(names.has('@noxy-approval/core')).toBe(true);
    const required = new Set<string>(['@noxy-approval/mcp']);
    for (const { pkg } of bundled) {
      for (const deps of [pkg.dependencies, pkg.optionalDependencies, pkg.peerDependencies]) {
        for (const name of Object.keys(deps ?? {})) required.add(name);
      }
    }
    expect([...names].filter((name) => !required.has(name))).toEqual([]);
    // The checkout's own tooling, named outright so a change to the walk above cannot hide it.
    const rootDev = Object.keys(readJson<PackageJson>(join(root, 'package.json')).devDependencies ?? {});
    const devOnly = rootDev.filter((name) => !required.has(name));
    expect(devOnly).toEqual(expect.arrayContaining(['typescript', 'vitest', '@anthropic-ai/mcpb', 'esbuild']));
    expect(devOnly.filter((name) => names.has(name))).toEqual([]);
    for (const { dir, pkg } of bundled) {
      if (!pkg.name.startsWith('@noxy-approval/')) continue;
      expect(existsSync(join(dir, 'src')), `${pkg.name}/src`).toBe(false);
    }
  });

  it('unpacked, its server answers tools/list and gets an approval, configured as Claude Desktop does', async () => {
    stack = await startLocalStack({ devices: [{ answer: 'approve' }] });
    const userConfig: Record<string, string> = {
      endpoint: stack.relay.grpcUrl,
      auth_token: stack.appToken,
      identity: String(stack.identity),
      ttl_seconds: '120',
    };
    const substitute = (text: string) =>
      text
        .replaceAll('${__dirname}', unpacked)
        .replace(/\$\{user_config\.(\w+)\}/g, (_, key: string) => userConfig[key] ?? '');
    const { command, args, env } = manifest.server.mcp_config;
    expect(command).toBe('node');
    const stderr: string[] = [];
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: args.map(substitute),
      // Nothing from this checkout: no NODE_PATH, and the cwd is the unpacked bundle.
      env: {
        PATH: process.env.PATH ?? '',
        ...Object.fromEntries(Object.entries(env).map(([k, v]) => [k, substitute(v)])),
      },
      cwd: unpacked,
      stderr: 'pipe',
    });
    transport.stderr?.on('data', (b: Buffer) => stderr.push(b.toString()));
    const client = new Client({ name: 'bundle-host', version: '1' });
    await client.connect(transport);
    try {
      const tools = (await client.listTools()).tools.map((t) => t.name).sort();
      expect(tools).toEqual(['check_human_approval', 'request_human_approval']);
      const result = await client.callTool({
        name: 'request_human_approval',
        arguments: { tool: 'deploy', args: { env: 'prod' }, title: 'Deploy to prod' },
      });
      expect(result.isError, JSON.stringify(result.content)).not.toBe(true);
      expect((result.structuredContent as ApprovalOutput).outcome).toBe('approved');
    } finally {
      await client.close();
    }
    expect(stderr.join('')).not.toContain(stack.appToken);
  }, 30_000);
});
