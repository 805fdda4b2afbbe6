/**
 * The README's front door, tried as a newcomer tries it: every command of the README's `sh`
 * blocks runs, as printed, in a scratch copy of this checkout as it is right after `npm ci` —
 * no build output, bins linked to the committed shims — with the npm registry pointed at a
 * loopback trap that records every request. The commands must work in the README's order and
 * none may reach the registry (an `npx` that falls back to it would run a stranger's package).
 *
 * Two deviations from "as printed", both forced by the test rules: `noxy-relay start` gets
 * `--grpc-port 0 --http-port 0` (tests never bind fixed ports; the later commands find the
 * ports in the relay's run file, as they would the defaults), and HOME is a scratch folder
 * (so `noxy-device` keeps its keys there, not in the user's home). Placeholders (`<APP_ID>`,
 * the pairing link) are filled in from the previous commands' output, as a reader would.
 */
import { createServer, type Server } from 'node:http';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNoxyClient } from '@noxy-approval/core';
import {
  describeRun,
  makeScratchCheckout,
  runCommand,
  startCommand,
  type CommandOptions,
  type RunningCommand,
  type ScratchCheckout,
} from '@noxy-approval/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The commands of the README's `sh` blocks: comments dropped, `\` continuations joined. */
function readmeCommands(markdown: string): string[] {
  const blocks = [...markdown.matchAll(/^```(?:sh|bash|shell)\n([\s\S]*?)^```/gm)].map((m) => m[1]!);
  return blocks.flatMap((block) =>
    block
      .replace(/\\\n\s*/g, ' ')
      .split('\n')
      .map((line) => line.replace(/(^|\s)#.*$/, '').trim())
      .filter(Boolean),
  );
}

/**
 * README commands this test does not run, each with the reason. Anything else the README
 * prints must match a step below, so a new command cannot slip in untried.
 */
const NOT_RUN: ReadonlyArray<[RegExp, string]> = [
  [/^npm ci$/, 'the state this test starts from: the scratch copy is a checkout right after `npm ci`'],
  [/^npm test$/, 'this test is part of it'],
  [/^npm run bench$/, 'about ten minutes of benchmarks that print figures, not a pass or fail; run by hand'],
  [/^claude mcp add /, 'configures Claude Code, not installed here; it runs the published package'],
];

interface Ctx {
  checkout: ScratchCheckout;
  options: CommandOptions;
  relay?: RunningCommand;
  listen?: RunningCommand;
  grpcUrl?: string;
  appId?: string;
  appToken?: string;
  pairingLink?: string;
}

/** One README command: how to recognise it and what it must do. */
interface Step {
  match: RegExp;
  run(command: string, ctx: Ctx): Promise<void>;
}

async function expectSuccess(command: string, ctx: Ctx, timeoutMs = 60_000): Promise<string> {
  const run = await runCommand(command, { ...ctx.options, timeoutMs });
  expect(run.code, describeRun(command, run)).toBe(0);
  return run.stdout;
}

// Run in this order (the step-by-step block, then the demo, which builds the copy); each step reads
// what the previous ones left in `ctx`.
const STEPS: readonly Step[] = [
  {
    match: /^npx --no-install noxy-relay start --data \.\/\.noxy$/,
    async run(command, ctx) {
      ctx.relay = startCommand(`${command} --grpc-port 0 --http-port 0`, { ...ctx.options, timeoutMs: 400_000 });
      const ready = await ctx.relay.waitFor(/noxy-relay ready\ngrpc +(http:\/\/127\.0\.0\.1:\d+)/, 60_000);
      ctx.grpcUrl = ready[1];
    },
  },
  {
    match: /^npx --no-install noxy-relay app create --data \.\/\.noxy --name dev$/,
    async run(command, ctx) {
      const out = await expectSuccess(command, ctx);
      ctx.appId = out.match(/app id +(app_\w+)/)?.[1];
      ctx.appToken = out.match(/app token +(\S+)/)?.[1];
      expect(ctx.appId, out).toBeDefined();
      expect(ctx.appToken).toBeDefined();
    },
  },
  {
    match: /^npx --no-install noxy-relay pair --data \.\/\.noxy --app <APP_ID> --identity alice@example\.com$/,
    async run(command, ctx) {
      const out = await expectSuccess(command.replace('<APP_ID>', ctx.appId!), ctx);
      ctx.pairingLink = out.match(/noxy:\/\/pair\?\S+/)?.[0];
      expect(ctx.pairingLink, 'pair prints a noxy:// link').toBeDefined();
      expect(ctx.pairingLink).toContain(encodeURIComponent(ctx.grpcUrl!));
    },
  },
  {
    match: /^npx --no-install noxy-device pair '<the noxy:\/\/ pairing link>'$/,
    async run(command, ctx) {
      await expectSuccess(command.replace('<the noxy:// pairing link>', ctx.pairingLink!), ctx);
    },
  },
  {
    match: /^npx --no-install noxy-device listen$/,
    async run(command, ctx) {
      ctx.listen = startCommand(command, { ...ctx.options, timeoutMs: 400_000 });
      await ctx.listen.waitFor(/ready device=/, 60_000);
      // "Then point an agent at it": one decision, answered at the terminal prompt.
      const client = createNoxyClient({ endpoint: ctx.grpcUrl!, authToken: ctx.appToken!, decisionTtlSeconds: 60 });
      try {
        const waiting = client.sendDecisionAndWaitForOutcome('alice@example.com', { title: 'Front door check' });
        await ctx.listen.waitFor(/Answer \S+: \[a\]pprove/, 30_000);
        ctx.listen.child.stdin.write('a\n');
        expect((await waiting).outcome).toBe('approved');
      } finally {
        client.close();
      }
    },
  },
  {
    // Last: it builds the copy, after which the bins no longer run from source.
    match: /^npm run demo$/,
    async run(command, ctx) {
      const out = await expectSuccess(command, ctx, 300_000);
      expect(out).toContain('Outcome: APPROVED');
    },
  },
  {
    match: /^npm run bundle:mcpb$/,
    async run(command, ctx) {
      const out = await expectSuccess(command, ctx, 120_000);
      expect(out).toMatch(/noxy-approval-\d+\.\d+\.\d+\.mcpb/);
      expect(existsSync(join(ctx.checkout.dir, 'dist'))).toBe(true);
    },
  },
  {
    match: /^npm run gen:proto$/,
    async run(command, ctx) {
      await expectSuccess(command, ctx);
      // Regenerating offline reproduces the committed stubs byte for byte.
      const gen = 'packages/proto/src/gen/noxy/agent.ts';
      expect(readFileSync(join(ctx.checkout.dir, gen), 'utf8')).toBe(readFileSync(join(root, gen), 'utf8'));
    },
  },
];

/** A loopback stand-in for the npm registry: answers 503 and remembers every request. */
async function startRegistryTrap(): Promise<{ server: Server; url: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.writeHead(503).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return { server, url: `http://127.0.0.1:${address.port}/`, requests };
}

const commands = readmeCommands(readFileSync(join(root, 'README.md'), 'utf8'));

describe('README commands on a fresh clone after `npm ci`', { timeout: 420_000 }, () => {
  let trap: Awaited<ReturnType<typeof startRegistryTrap>>;
  let ctx: Ctx;

  beforeAll(async () => {
    trap = await startRegistryTrap();
    const checkout = makeScratchCheckout(root);
    const home = join(checkout.dir, '.home');
    mkdirSync(home);
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, npm_config_registry: trap.url };
    for (const name of Object.keys(env)) {
      // No build output or source mapping leaks in from the test runner's own environment.
      if (/^(NOXY_|TSX_|npm_package_|npm_lifecycle_)/.test(name)) delete env[name];
    }
    ctx = { checkout, options: { cwd: checkout.dir, env, timeoutMs: 60_000 } };
  });

  afterAll(async () => {
    await ctx?.listen?.stop();
    await ctx?.relay?.stop();
    ctx?.checkout.remove();
    await new Promise((resolve) => trap?.server.close(resolve));
  });

  it('the README has the commands this test knows, each either run below or excused', () => {
    const unknown = commands.filter((c) => !STEPS.some((s) => s.match.test(c)) && !NOT_RUN.some(([r]) => r.test(c)));
    expect(unknown, 'README commands this test neither runs nor excuses').toEqual([]);
    const missing = STEPS.filter((s) => !commands.some((c) => s.match.test(c))).map((s) => String(s.match));
    expect(missing, 'steps whose command is no longer in the README').toEqual([]);
  });

  it('every command works as printed, in order, without a build and without the registry', async () => {
    const byPosition = STEPS.map((step) => ({ step, command: commands.find((c) => step.match.test(c))! }));
    for (const { step, command } of byPosition) await step.run(command, ctx);
    expect(trap.requests, 'requests that reached the npm registry').toEqual([]);
    const { stdout, stderr } = ctx.relay!.output();
    expect(stdout + stderr).not.toContain(ctx.appToken!);
  });
});
