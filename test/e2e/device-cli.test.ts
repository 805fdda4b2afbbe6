/**
 * `noxy-device` (the device package's CLI) against the REAL local relay and agent client: in
 * process through `runCli`, and as the built bin (dist/cli.js, built by the test run's global
 * setup) in separate processes. Loopback only, ports chosen by the OS.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import {
  buildApprovalPayload,
  createNoxyClient,
  loadKemBackend,
  type KemBackend,
  type NoxyClient,
} from '@noxy-approval/core';
import { createMemoryKeyStore, createNoxyDevice } from '@noxy-approval/device';
import { silentLogger, startRelay, type Relay } from '@noxy-approval/relay';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
// The CLI's in-process entry is not part of the package's API.
import type { CliIo } from '../../packages/device/src/cli/io.js';
import { runCli, VERSION } from '../../packages/device/src/cli/main.js';

const IDENTITY = 'bob@example.com';
let kem: KemBackend;
beforeAll(async () => {
  kem = await loadKemBackend('mlkem');
});
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function captureIo(env: Record<string, string | undefined> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const stdin = new PassThrough();
  const stop = new AbortController();
  const waiters: { re: RegExp; resolve: (line: string) => void }[] = [];
  const io: CliIo = {
    out: (line) => {
      out.push(line);
      for (const w of [...waiters]) {
        const hit = line.split('\n').find((l) => w.re.test(l));
        if (hit) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(hit);
        }
      }
    },
    err: (line) => void err.push(line),
    stdin,
    env,
    signal: stop.signal,
  };
  /** Resolves with the first (past or future) stdout line matching `re`. */
  const line = (re: RegExp) =>
    new Promise<string>((resolve) => {
      const hit = out.flatMap((l) => l.split('\n')).find((l) => re.test(l));
      if (hit) resolve(hit);
      else waiters.push({ re, resolve });
    });
  return { io, out, err, stdin, stop, line };
}

async function setup() {
  const relay = await startRelay({ dataDir: ':memory:', logger: silentLogger });
  cleanup.push(() => relay.close());
  const app = relay.createApp({ name: 'cli' });
  const agent = createNoxyClient({ endpoint: relay.grpcUrl, authToken: app.appToken, kem });
  cleanup.push(() => agent.close());
  const dataDir = await mkdtemp(join(tmpdir(), 'noxy-device-cli-'));
  cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
  return { relay, app, agent, dataDir };
}

function payload(tool = 'transfer_funds') {
  const now = Date.now();
  return buildApprovalPayload({
    decisionId: randomUUID(),
    tool,
    args: { amountWei: '1' },
    title: 'Pay',
    requestedAt: now,
    expiresAt: now + 600_000,
  });
}

async function pairVia(relay: Relay, appId: string, dataDir: string) {
  const pairing = relay.createPairing({ appId, identity: IDENTITY });
  const c = captureIo();
  expect(await runCli(['pair', pairing.link, '--data-dir', dataDir], c.io)).toBe(0);
  return { pairing, ...c };
}

async function send(agent: NoxyClient, p: ReturnType<typeof payload>) {
  await agent.sendDecision(IDENTITY, p, { decisionId: p.decision_id });
}

describe('noxy-device against the real relay (in-process)', () => {
  it('pair stores a 0600 profile and keys, prints the device id, never the code', async () => {
    const { relay, app, dataDir } = await setup();
    const { pairing, out, err } = await pairVia(relay, app.appId, dataDir);
    expect(out).toEqual([
      expect.stringMatching(new RegExp(`^paired device=\\S+ app=${app.appId} identity=email:bob@example.com$`)),
    ]);
    expect([...out, ...err].join('\n')).not.toContain(pairing.code);
    expect((await stat(join(dataDir, 'device.json'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dataDir, 'keys'))).mode & 0o777).toBe(0o700);
    const profile = JSON.parse(await readFile(join(dataDir, 'device.json'), 'utf8'));
    expect(profile).toEqual({
      relayUrl: relay.grpcUrl,
      appId: app.appId,
      identity: { type: 'email', id: IDENTITY },
      transport: 'grpc',
      deviceType: 'desktop',
    });
    expect(JSON.stringify(profile)).not.toContain(pairing.code);
    const status = captureIo();
    expect(await runCli(['status', '--data-dir', dataDir], status.io)).toBe(0);
    expect(status.out[1]).toMatch(/^device-key=[0-9a-f]{16}$/);
  });

  it('a pairing link used a second time says so, once, and names `noxy-relay pair`', async () => {
    const { relay, app, dataDir } = await setup();
    const { pairing } = await pairVia(relay, app.appId, dataDir);
    const again = captureIo();
    const otherDir = await mkdtemp(join(tmpdir(), 'noxy-device-cli-'));
    cleanup.push(() => rm(otherDir, { recursive: true, force: true }));
    expect(await runCli(['pair', pairing.link, '--data-dir', otherDir], again.io)).toBe(1);
    expect(again.err).toHaveLength(1);
    expect(again.err[0]).toContain('a pairing link works once and expires; make a new one with `noxy-relay pair`');
  });

  it('listen --auto approve --max 1 shows the decision and prints the recorded outcome', async () => {
    const { relay, app, agent, dataDir } = await setup();
    await pairVia(relay, app.appId, dataDir);
    const c = captureIo();
    const exit = runCli(['listen', '--data-dir', dataDir, '--auto', 'approve', '--delay', '20', '--max', '1'], c.io);
    await c.line(/^ready device=/);
    const p = payload();
    await send(agent, p);
    expect(await exit).toBe(0);
    expect(c.out).toContain(`decision ${p.decision_id}`);
    expect(c.out).toContain('    Tool:        "transfer_funds"');
    expect(c.out).toContain(`decided ${p.decision_id} approve`);
    const outcome = await agent.waitForDecisionOutcome({
      decisionId: p.decision_id,
      identity: IDENTITY,
      maxWaitMs: 5_000,
    });
    expect(outcome.outcome).toBe('approved');
  });

  it('listen asks on stdin, and prints a soft-cancel when another device answers first', async () => {
    const { relay, app, agent, dataDir } = await setup();
    await pairVia(relay, app.appId, dataDir);
    const other = await createNoxyDevice({
      relayUrl: relay.grpcUrl,
      appId: app.appId,
      identity: IDENTITY,
      signingSecret: app.signingSecret,
      keyStore: createMemoryKeyStore(),
      kem,
    });
    cleanup.push(() => other.close());
    await other.connect();
    const c = captureIo();
    const exit = runCli(['listen', '--data-dir', dataDir], c.io);
    await c.line(/^ready device=/);

    const first = payload('first_tool');
    const got = new Promise<string>((resolve) => other.on('decision', (d) => resolve(d.decisionId)));
    await send(agent, first);
    await c.line(new RegExp(`^decision ${first.decision_id}$`));
    await other.decide(await got, 'approve');
    await c.line(new RegExp(`^cancelled ${first.decision_id} decided-elsewhere$`));

    const second = payload('second_tool');
    await send(agent, second);
    await c.line(new RegExp(`^decision ${second.decision_id}$`));
    c.stdin.write('maybe\nr\n');
    await c.line(new RegExp(`^decided ${second.decision_id} reject$`));
    expect(c.err.some((l) => l.startsWith('please type a'))).toBe(true);
    c.stdin.end();
    expect(await exit).toBe(0);
    expect(
      (await agent.waitForDecisionOutcome({ decisionId: second.decision_id, identity: IDENTITY, maxWaitMs: 5_000 }))
        .outcome,
    ).toBe('rejected');
  });
});

describe('the built bin (dist/cli.js)', () => {
  const bin = fileURLToPath(new URL('../../packages/device/dist/cli.js', import.meta.url));

  function run(args: string[], env: Record<string, string> = {}) {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
    cleanup.push(() => child.exitCode === null && child.kill());
    return { child, exited, out: () => stdout, err: () => stderr };
  }

  it('has a shebang and prints its version', async () => {
    expect((await readFile(bin, 'utf8')).startsWith('#!/usr/bin/env node\n')).toBe(true);
    const r = run(['--version']);
    expect(await r.exited).toBe(0);
    expect(r.out()).toBe(`${VERSION}\n`);
    const pkg = JSON.parse(
      await readFile(fileURLToPath(new URL('../../packages/device/package.json', import.meta.url)), 'utf8'),
    );
    expect(pkg.version).toBe(VERSION);
    // The bin is a committed shim (linked at install, before any build) that runs dist/cli.js.
    expect(pkg.bin['noxy-device']).toBe('./bin/noxy-device.js');
    const shim = fileURLToPath(new URL('../../packages/device/bin/noxy-device.js', import.meta.url));
    expect((await readFile(shim, 'utf8')).startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('pairs and auto-approves as separate processes', async () => {
    const { relay, app, agent, dataDir } = await setup();
    const pairing = relay.createPairing({ appId: app.appId, identity: IDENTITY });
    const paired = run(['pair', pairing.link], { NOXY_DEVICE_DIR: dataDir });
    expect(await paired.exited).toBe(0);
    expect(paired.out()).toMatch(/^paired device=/);
    const listener = run(['listen', '--auto', 'approve', '--max', '1'], { NOXY_DEVICE_DIR: dataDir });
    await expect.poll(() => listener.out(), { timeout: 10_000 }).toMatch(/^ready device=/m);
    const p = payload();
    await send(agent, p);
    expect(await listener.exited).toBe(0);
    expect(listener.out()).toContain(`decided ${p.decision_id} approve\n`);
    expect(listener.out() + listener.err() + paired.out() + paired.err()).not.toContain(pairing.code);

    // An interactive listener stops cleanly on SIGINT.
    const interactive = run(['listen'], { NOXY_DEVICE_DIR: dataDir });
    await expect.poll(() => interactive.out(), { timeout: 10_000 }).toMatch(/^ready device=/m);
    interactive.child.kill('SIGINT');
    expect(await interactive.exited).toBe(0);
  });
});
