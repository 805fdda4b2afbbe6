import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createNoxyClient, type NoxyClient } from '@noxy-approval/core';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startBlackhole, type Blackhole } from '@noxy-approval/testing';

const TIMEOUT = 300;
const ALICE = 'alice@example.com';
const DECISION = 'd0d0d0d0-b1b1-4c2c-8d3d-e4e4e4e4e4e4';

let hole: Blackhole;
let client: NoxyClient;

// The client loads grpc-js on its first RPC; load it now so the timings below measure the deadline
// alone (a cold import is a one-off start-up cost, measured by the MCP cold-start bench).
beforeAll(async () => {
  await import('../../packages/core/src/transport.js');
});

beforeEach(async () => {
  hole = await startBlackhole();
  client = createNoxyClient({
    endpoint: hole.endpoint,
    authToken: 'tok_blackhole',
    timeouts: { routeDecision: TIMEOUT, getDecisionOutcome: TIMEOUT, other: TIMEOUT },
  });
});

afterEach(async () => {
  client.close();
  await hole.close();
});

/**
 * Runs `run`, timing it; `late` is how late a plain timer of the same deadline fired meanwhile, so
 * a loaded machine's event-loop lag is not blamed on the client.
 */
async function timed(run: () => Promise<unknown>): Promise<{ error: unknown; ms: number; late: number }> {
  const start = performance.now();
  let late = 0;
  const probe = new Promise<void>((resolve) =>
    setTimeout(() => {
      late = Math.max(0, performance.now() - start - TIMEOUT);
      resolve();
    }, TIMEOUT),
  );
  const error = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  const ms = performance.now() - start;
  if (ms >= TIMEOUT) await probe;
  return { error, ms, late };
}

async function until(predicate: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!predicate() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  return predicate();
}

describe('a relay that accepts TCP and never speaks HTTP/2', () => {
  it('every RPC of the agent client (all five) fails with RELAY_UNAVAILABLE within the deadline + 100 ms', async () => {
    const calls: [string, () => Promise<unknown>][] = [
      ['getQuota', () => client.getQuota()],
      ['getIdentityDevices', () => client.getIdentityDevices(ALICE)],
      ['getDecisionOutcome', () => client.getDecisionOutcome({ decisionId: DECISION, identity: ALICE })],
      ['sendDecision', () => client.sendDecision(ALICE, { title: 't' })],
      ['sendPush', () => client.sendPush(ALICE, { title: 't' })],
    ];
    // In parallel on one channel: each call has its own deadline.
    const results = await Promise.all(calls.map(([, run]) => timed(run)));
    results.forEach(({ error, ms, late }, i) => {
      const name = calls[i]![0];
      expect(error, name).toMatchObject({ name: 'NoxyError', code: 'RELAY_UNAVAILABLE', retryable: true });
      expect(ms, name).toBeLessThan(TIMEOUT + 100 + late);
      expect(ms, name).toBeGreaterThanOrEqual(TIMEOUT - 20);
    });
    expect(hole.accepted).toBeGreaterThan(0);
  });

  it('a wait keeps trying inside its limit, then reports the relay as unreachable (not an outcome)', async () => {
    const { error, ms } = await timed(() =>
      client.waitForDecisionOutcome({ decisionId: DECISION, identity: ALICE, maxWaitMs: 600 }),
    );
    expect(error).toMatchObject({ code: 'RELAY_UNAVAILABLE' });
    // The last poll may start at the limit and run for one RPC deadline.
    expect(ms).toBeLessThan(600 + TIMEOUT + 100);
  });

  it('close() releases the connection and the calls still open end with CLOSED', async () => {
    const pending = timed(() => client.getQuota());
    expect(await until(() => hole.open > 0, 1000)).toBe(true);
    client.close();
    const { error, ms } = await pending;
    expect(error).toMatchObject({ code: 'CLOSED' });
    expect(ms).toBeLessThan(150);
    await expect(client.getQuota()).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('a process whose client timed out on the blackhole exits ≤ 1 s after close(): no handle holds it', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('./fixtures/blackhole-child.ts', import.meta.url)), hole.endpoint],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let closedAt = Infinity;
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('closed')) closedAt = Math.min(closedAt, performance.now());
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    clearTimeout(killer);
    expect(out.trim()).toBe('closed RELAY_UNAVAILABLE');
    expect(code).toBe(0);
    expect(performance.now() - closedAt).toBeLessThan(1_000);
    expect(hole.accepted).toBe(1);
  });
});
