import { createNoxyClient, type NoxyClient } from '@noxy-approval/core';
import { agent } from '@noxy-approval/proto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentTestServer } from '@noxy-approval/testing';

const TOKEN = 'tok_abort_0123456789';
const ALICE = 'alice@example.com';
const ID = 'e1e1e1e1-b1b1-4c2c-8d3d-e4e4e4e4e4e4';
// "At once": far below one poll interval (up to 1.6 s), with room for a loaded 2-core CI machine.
const PROMPT_MS = 150;
const PENDING = agent.DecisionOutcome.DECISION_OUTCOME_PENDING;

let server: AgentTestServer;
let client: NoxyClient;

const polls = () => server.callsTo('GetDecisionOutcome');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

afterEach(async () => {
  client.close();
  await server.close();
});

describe('abort and close on real time', () => {
  beforeEach(async () => {
    server = await AgentTestServer.start();
    client = createNoxyClient({ endpoint: server.endpoint, authToken: TOKEN });
    server.setOutcome(ID, [{ outcome: PENDING }]);
  });

  async function abortAfter(ms: number, options: { delay?: number } = {}) {
    if (options.delay) server.delay('GetDecisionOutcome', options.delay);
    const controller = new AbortController();
    const wait = client.waitForDecisionOutcome({ decisionId: ID, identity: ALICE, signal: controller.signal }).then(
      () => undefined,
      (e: unknown) => e,
    );
    await sleep(ms);
    const abortedAt = performance.now();
    const callsAtAbort = polls().length;
    controller.abort(new Error('user pressed stop'));
    const error = await wait;
    const lag = performance.now() - abortedAt;
    await sleep(200);
    return { error, lag, callsAtAbort };
  }

  it('abort during an in-flight poll: ABORTED ≤ 50 ms, the RPC is cancelled, no poll after', async () => {
    const { error, lag, callsAtAbort } = await abortAfter(100, { delay: 1_000 });
    expect(error).toMatchObject({ name: 'NoxyError', code: 'ABORTED' });
    expect(lag).toBeLessThanOrEqual(PROMPT_MS);
    expect(callsAtAbort).toBe(1);
    expect(polls()).toHaveLength(1);
    expect(polls()[0]!.cancelled).toBe(true);
  });

  it('abort during the backoff sleep: ABORTED ≤ 50 ms and no poll after', async () => {
    const { error, lag, callsAtAbort } = await abortAfter(450);
    expect(error).toMatchObject({ code: 'ABORTED' });
    expect(lag).toBeLessThanOrEqual(PROMPT_MS);
    expect(callsAtAbort).toBeGreaterThanOrEqual(2);
    expect(polls()).toHaveLength(callsAtAbort);
  });

  it('an already-aborted signal makes no call at all', async () => {
    const signal = AbortSignal.abort();
    await expect(client.waitForDecisionOutcome({ decisionId: ID, identity: ALICE, signal })).rejects.toMatchObject({
      code: 'ABORTED',
    });
    await expect(client.getDecisionOutcome({ decisionId: ID, identity: ALICE, signal })).rejects.toMatchObject({
      code: 'ABORTED',
    });
    await expect(client.sendDecision(ALICE, { title: 't' }, { signal })).rejects.toMatchObject({ code: 'ABORTED' });
    expect(server.calls).toHaveLength(0);
  });

  it('20 waits aborted at random times all end ≤ 50 ms after their abort, and polling stops', async () => {
    const runs = Array.from({ length: 20 }, async (_, i) => {
      const controller = new AbortController();
      const wait = client
        .waitForDecisionOutcome({ decisionId: ID, identity: ALICE, signal: controller.signal })
        .catch((e: unknown) => e);
      await sleep(((i * 37) % 600) + 5);
      const t = performance.now();
      controller.abort();
      return { error: await wait, lag: performance.now() - t };
    });
    const results = await Promise.all(runs);
    for (const r of results) {
      expect(r.error).toMatchObject({ code: 'ABORTED' });
      expect(r.lag).toBeLessThanOrEqual(PROMPT_MS);
    }
    await sleep(100); // polls sent just before an abort may reach the server's log a little later
    const settled = polls().length;
    await sleep(300);
    expect(polls()).toHaveLength(settled);
  });

  it('close() ends every pending wait with CLOSED at once and stops polling', async () => {
    server.delay('GetDecisionOutcome', 50);
    const waits = [0, 1, 2].map(() =>
      client.waitForDecisionOutcome({ decisionId: ID, identity: ALICE }).catch((e: unknown) => e),
    );
    await sleep(300);
    const t = performance.now();
    client.close();
    const errors = await Promise.all(waits);
    expect(performance.now() - t).toBeLessThanOrEqual(PROMPT_MS);
    for (const e of errors) expect(e).toMatchObject({ name: 'NoxyError', code: 'CLOSED' });
    // A poll sent just before close() may still reach the server's log a little later: let
    // those land, then no new poll may appear.
    await sleep(100);
    const settled = polls().length;
    await sleep(300);
    expect(polls()).toHaveLength(settled);
    await expect(client.waitForDecisionOutcome({ decisionId: ID, identity: ALICE })).rejects.toMatchObject({
      code: 'CLOSED',
    });
    client.close(); // idempotent
  });

  it('close() during a fan-out ends the send with CLOSED and routes nothing more', async () => {
    await server.addDevices(ALICE, 3);
    server.delay('RouteDecision', 2_000);
    const send = client.sendDecision(ALICE, { title: 't' }).catch((e: unknown) => e);
    while (server.callsTo('RouteDecision').length < 3) await sleep(5);
    const t = performance.now();
    client.close();
    expect(await send).toMatchObject({ code: 'CLOSED' });
    expect(performance.now() - t).toBeLessThanOrEqual(PROMPT_MS);
    // The relay sees the calls cancelled (RST_STREAM), not left to run to their end.
    for (let i = 0; i < 50 && !server.callsTo('RouteDecision').every((c) => c.cancelled); i++) await sleep(10);
    expect(server.callsTo('RouteDecision').every((c) => c.cancelled)).toBe(true);
  });

  it('the caller’s abort wins over close(): ABORTED, not CLOSED', async () => {
    const controller = new AbortController();
    const wait = client
      .waitForDecisionOutcome({ decisionId: ID, identity: ALICE, signal: controller.signal })
      .catch((e: unknown) => e);
    await sleep(50);
    controller.abort();
    client.close();
    expect(await wait).toMatchObject({ code: 'ABORTED' });
  });
});

describe('the client-wide poll budget over gRPC', () => {
  it('12 concurrent waits on a 4 polls/s client keep to the token bucket (4 + 4·t polls) and maxWaitMs', async () => {
    server = await AgentTestServer.start();
    client = createNoxyClient({ endpoint: server.endpoint, authToken: TOKEN, pollsPerSecond: 4 });
    server.setOutcome(ID, [{ outcome: PENDING }]);
    const start = Date.now();
    const results = await Promise.all(
      Array.from({ length: 12 }, () =>
        client.waitForDecisionOutcome({ decisionId: ID, identity: ALICE, maxWaitMs: 1_500 }),
      ),
    );
    expect(results.every((r) => r.outcome === 'pending')).toBe(true);
    // An oversubscribed budget does not stretch the caller's limit (an MCP host's timeout).
    for (const r of results) expect(r.observedAt - start).toBeLessThan(1_500 + 200);
    const times = polls().map((p) => (p.at - start) / 1000);
    for (const t of times) expect(times.filter((u) => u <= t).length).toBeLessThanOrEqual(4 + 4 * t + 1);
    // Without the budget 12 waits would poll at least 12 × 3 times in 1.5 s.
    expect(times.length).toBeLessThan(4 + 4 * (Math.max(...times) + 0.1) + 1);
  });
});
