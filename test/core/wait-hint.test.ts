/**
 * The wait hint (docs/protocol.md §12) end to end: the core client against the real local relay,
 * which holds hinted polls, and against the test AgentService, which ignores the hint like an
 * official relay. The loop's own rules run on virtual time (the last block).
 */
import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { createNoxyClient, type NoxyClient } from '@noxy-approval/core';
import { agent } from '@noxy-approval/proto';
import {
  AgentTestServer,
  grpcTargetOf,
  ManualClock,
  startTestRelay,
  type DeviceHandle,
  type TestRelay,
} from '@noxy-approval/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { POLL_BACKOFF } from '../../packages/core/src/backoff.js';
import { PollScheduler } from '../../packages/core/src/poll-scheduler.js';
import { waitForOutcome, type PollAnswer } from '../../packages/core/src/wait.js';

const ALICE = 'alice@example.com';
const HINT = 'noxy-wait-ms';

/** Polls `predicate` every 10 ms for at most `ms`. */
async function until(predicate: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('against the local relay (holds hinted polls)', () => {
  let t: TestRelay;
  let phone: DeviceHandle;
  let client: NoxyClient;
  const route = async () => {
    const decisionId = randomUUID();
    await t.agent.route({ targetDeviceId: phone.deviceId, decisionId, ttlSeconds: 600 });
    return decisionId;
  };
  const start = async (relayOptions: Parameters<typeof startTestRelay>[0] = {}, pollsPerSecond = 20) => {
    t = await startTestRelay(relayOptions);
    phone = await t.addDevice({ identityType: 'email', identityId: ALICE });
    client = createNoxyClient({ endpoint: t.relay.grpcUrl, authToken: t.app.appToken, pollsPerSecond });
  };
  afterEach(async () => {
    client.close();
    await t.close();
  });

  it('an answer given while a poll is held reaches the waiter on that same call', async () => {
    await start();
    const decisionId = await route();
    const wait = client.waitForDecisionOutcome({ decisionId, identity: ALICE, expiresAt: Date.now() + 600_000 });
    await until(() => t.relay.heldCalls() === 1);
    await phone.dev.outcome(decisionId, 'APPROVE');
    const result = await wait;
    expect(result.outcome).toBe('approved');
    // One poll: the held one carried the answer (no second round trip, no backoff sleep).
    expect(result.polls).toBe(1);
    expect(t.relay.heldCalls()).toBe(0);
  });

  it('shutdown answers a held call (OK, still pending) instead of cutting it', async () => {
    await start({ shutdownGraceMs: 60_000 });
    const decisionId = await route();
    const stub = new agent.AgentServiceClient(grpcTargetOf(t.relay.grpcUrl), credentials.createInsecure());
    const md = new Metadata();
    md.set('authorization', `Bearer ${t.app.appToken}`);
    md.set(HINT, '25000');
    let headers: Metadata | undefined;
    const answer = new Promise<agent.GetDecisionOutcomeResponse>((resolve, reject) => {
      const call = stub.getDecisionOutcome(
        { requestId: randomUUID(), decisionId, identityId: ALICE },
        md,
        { deadline: Date.now() + 30_000 },
        (err: ServiceError | null, res?: agent.GetDecisionOutcomeResponse) => (err ? reject(err) : resolve(res!)),
      );
      call.on('metadata', (m) => (headers = m));
    });
    await until(() => t.relay.heldCalls() === 1);
    // The relay said at once that it holds, and for how long.
    expect(headers?.get(HINT)).toEqual(['25000']);
    // With a 60 s grace, close() only returns this fast (inside the test's timeout) if the held
    // call was answered rather than waited for.
    await t.relay.close();
    const res = await answer;
    expect(res).toMatchObject({ pending: true, outcome: agent.DecisionOutcome.DECISION_OUTCOME_PENDING });
    stub.close();
  });

  it('an abort ends a held wait at once and the relay drops the call', async () => {
    await start();
    const decisionId = await route();
    const abort = new AbortController();
    const wait = client.waitForDecisionOutcome({ decisionId, identity: ALICE, signal: abort.signal });
    await until(() => t.relay.heldCalls() === 1);
    abort.abort();
    await expect(wait).rejects.toMatchObject({ name: 'NoxyError', code: 'ABORTED' });
    await until(() => t.relay.heldCalls() === 0);
  });

  it('an un-hinted poll is never held (the same call from a client with waitHintMs: 0)', async () => {
    await start();
    const decisionId = await route();
    const plain = createNoxyClient({ endpoint: t.relay.grpcUrl, authToken: t.app.appToken, waitHintMs: 0 });
    try {
      const result = await plain.waitForDecisionOutcome({ decisionId, identity: ALICE, maxWaitMs: 600 });
      expect(result.outcome).toBe('pending');
      expect(result.polls).toBeGreaterThanOrEqual(2); // backoff polls, none held
      expect(t.relay.heldCalls()).toBe(0);
    } finally {
      plain.close();
    }
  });

  it('a malformed hint is INVALID_ARGUMENT naming the header', async () => {
    await start();
    const decisionId = await route();
    const stub = new agent.AgentServiceClient(grpcTargetOf(t.relay.grpcUrl), credentials.createInsecure());
    const md = new Metadata();
    md.set('authorization', `Bearer ${t.app.appToken}`);
    md.set(HINT, '60000');
    const err = await new Promise<ServiceError | null>((resolve) =>
      stub.getDecisionOutcome({ requestId: randomUUID(), decisionId, identityId: ALICE }, md, resolve),
    );
    stub.close();
    expect(err?.code).toBe(status.INVALID_ARGUMENT);
    expect(err?.details).toMatch(/"noxy-wait-ms" metadata expected one integer 0\.\.25000/);
  });

  it('a held call takes one token of the app’s bucket on arrival and none while held or when answered', async () => {
    // The harness clock stands still: the bucket (3 tokens) never refills during the test.
    await start({ rateLimits: { agentPerSecond: 3 } });
    const decisionId = await route(); // token 1
    const stub = new agent.AgentServiceClient(grpcTargetOf(t.relay.grpcUrl), credentials.createInsecure());
    const ask = (hint?: string) => {
      const md = new Metadata();
      md.set('authorization', `Bearer ${t.app.appToken}`);
      if (hint) md.set(HINT, hint);
      return new Promise<{ err: ServiceError | null; res?: agent.GetDecisionOutcomeResponse }>((resolve) =>
        stub.getDecisionOutcome({ requestId: randomUUID(), decisionId, identityId: ALICE }, md, (err, res) =>
          resolve({ err, res }),
        ),
      );
    };
    try {
      const held = ask('1500'); // token 2
      await until(() => t.relay.heldCalls() === 1);
      expect((await ask()).res?.pending).toBe(true); // token 3
      const refused = await ask('1500');
      expect(refused.err?.code).toBe(status.RESOURCE_EXHAUSTED);
      expect(t.relay.heldCalls()).toBe(1);
      expect((await held).res?.pending).toBe(true); // answered at the hold's end, charged nothing more
    } finally {
      stub.close();
    }
  });

  it('1,000 concurrent held waits: one call each, RSS and event-loop lag bounded, all resolve on expiry', async () => {
    await start({ rateLimits: { agentPerSecond: 5_000 } }, 5_000);
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push(...(await Promise.all(Array.from({ length: 100 }, route))));
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    const waits = ids.map((decisionId) =>
      client.waitForDecisionOutcome({ decisionId, identity: ALICE, expiresAt: Date.now() + 600_000 }),
    );
    await until(() => t.relay.heldCalls() === 1_000, 30_000);
    // Held a while (on real time, well under the 20 s hold): nothing is polled meanwhile.
    await new Promise((r) => setTimeout(r, 500));
    const rssHeld = process.memoryUsage().rss;
    // Every decision expires on the relay's clock; the sweep wakes each decision's one call.
    t.clock.advance(601_000);
    expect(t.relay.sweepExpired()).toBe(1_000);
    const results = await Promise.all(waits);
    lag.disable();
    expect(results.every((r) => r.outcome === 'expired' && r.polls === 1)).toBe(true);
    expect(t.relay.heldCalls()).toBe(0);
    // Relay and client share this process: 1,000 held calls on both ends stay under 150 MB.
    expect((rssHeld - rssBefore) / 2 ** 20).toBeLessThan(150);
    // No stall of the loop anywhere near a hold's length (a bound, not a speed target; p99, so
    // one GC pause on a shared machine does not decide it).
    expect(lag.percentile(99) / 1e6).toBeLessThan(2_000);
  }, 60_000);
});

describe('against a relay that ignores the hint (the test AgentService)', () => {
  let server: AgentTestServer;
  let client: NoxyClient;
  afterEach(async () => {
    client.close();
    await server.close();
  });

  it('keeps the old schedule and budget: every poll carries the hint, gaps are the jittered backoff', async () => {
    const clock = new ManualClock();
    server = await AgentTestServer.start({ now: () => clock.now() });
    const decisionId = randomUUID();
    const flip = clock.now() + 30_000;
    server.setOutcome(decisionId, [{ at: flip, outcome: agent.DecisionOutcome.DECISION_OUTCOME_APPROVED }]);
    client = createNoxyClient({ endpoint: server.endpoint, authToken: 'tok_hint_0123456789', clock });
    const result = await client.waitForDecisionOutcome({ decisionId, identity: ALICE });
    expect(result.outcome).toBe('approved');
    const polls = server.callsTo('GetDecisionOutcome');
    expect(polls.every((p) => p.metadata.get(HINT)[0] === '20000')).toBe(true);
    const gaps = polls.slice(1).map((p, i) => p.at - polls[i]!.at);
    expect(gaps[0]).toBeGreaterThanOrEqual(125);
    expect(gaps[0]).toBeLessThanOrEqual(250);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(1_600);
    // The same count as the schedule without the hint over 30 s (sleeps 0.8–1.6 s once settled).
    expect(result.polls).toBe(polls.length);
    expect(result.polls).toBeGreaterThan(30 / 1.6);
    expect(result.polls).toBeLessThan(30 / 0.8 + 5);
    expect(result.observedAt - flip).toBeLessThanOrEqual(1_600);
  });
});

describe('the wait loop with held polls (virtual time)', () => {
  const virtual = () => new ManualClock({ start: 0 });

  it('an answer during a hold is observed at that instant, on that poll', async () => {
    const clock = virtual();
    const flip = 47_321;
    const holdMs = 20_000;
    // A relay that holds: the call returns at the flip or at the hold's end, whichever is first.
    const poll = async (): Promise<PollAnswer> => {
      const end = Math.min(clock.now() + holdMs, Math.max(clock.now(), flip));
      await clock.sleep(end - clock.now());
      return { outcome: clock.now() >= flip ? 'approved' : 'pending', heldMs: holdMs };
    };
    const result = await waitForOutcome(
      { decisionId: 'd', expiresAt: 600_000 },
      { clock, scheduler: new PollScheduler(20, clock), poll },
    );
    expect(result).toMatchObject({ outcome: 'approved', observedAt: flip, polls: 3 });
  });

  it('onPoll reports a held poll when the relay says it holds it, and again with the final outcome', async () => {
    const clock = virtual();
    const seen: Array<[number, string, number]> = [];
    const poll = async (_s: AbortSignal | undefined, _left: number, onHeld?: () => void): Promise<PollAnswer> => {
      onHeld?.();
      await clock.sleep(3_000);
      return { outcome: 'approved', heldMs: 20_000 };
    };
    const result = await waitForOutcome(
      { decisionId: 'd', expiresAt: 600_000, onPoll: (i) => seen.push([i.polls, i.outcome, i.elapsedMs]) },
      { clock, scheduler: new PollScheduler(20, clock), poll },
    );
    expect(result.outcome).toBe('approved');
    expect(seen).toEqual([
      [1, 'pending', 0],
      [1, 'approved', 3_000],
    ]);
  });

  it('a held answer that comes back early (relay shutting down) is followed by the backoff, not at once', async () => {
    const clock = virtual();
    const at: number[] = [];
    const poll = async (): Promise<PollAnswer> => {
      at.push(clock.now());
      await clock.sleep(5);
      return at.length < 4 ? { outcome: 'pending', heldMs: 20_000 } : { outcome: 'rejected' };
    };
    await waitForOutcome(
      { decisionId: 'd', expiresAt: 600_000, policy: POLL_BACKOFF, random: () => 0 },
      { clock, scheduler: new PollScheduler(20, clock), poll },
    );
    const gaps = at.slice(1).map((t, i) => t - at[i]! - 5);
    expect(gaps).toEqual([250, 500, 1_000]);
  });
});
