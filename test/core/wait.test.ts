import { status } from '@grpc/grpc-js';
import { createNoxyClient, type NoxyClient } from '@noxy-approval/core';
import { agent } from '@noxy-approval/proto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_GRACE_MS } from '../../packages/core/src/wait.js';
import { AgentTestServer, ManualClock as AutoClock } from '@noxy-approval/testing';

const TOKEN = 'tok_wait_0123456789';
const ALICE = 'alice@example.com';
const ID = 'e0e0e0e0-b1b1-4c2c-8d3d-e4e4e4e4e4e4';
const {
  DECISION_OUTCOME_PENDING: PENDING,
  DECISION_OUTCOME_APPROVED: APPROVED,
  DECISION_OUTCOME_REJECTED: REJECTED,
  DECISION_OUTCOME_EXPIRED: EXPIRED,
} = agent.DecisionOutcome;

let server: AgentTestServer;
let clock: AutoClock;
let client: NoxyClient;

const polls = () => server.callsTo('GetDecisionOutcome');

afterEach(async () => {
  client.close();
  await server.close();
});

describe('waiting on virtual time', () => {
  beforeEach(async () => {
    clock = new AutoClock();
    server = await AgentTestServer.start({ now: () => clock.now() });
    await server.addDevices(ALICE, 1);
    client = createNoxyClient({ endpoint: server.endpoint, authToken: TOKEN, clock, decisionTtlSeconds: 60 });
  });

  it('an unanswered decision ends `expired` at expiresAt + grace, never earlier, polling ≤ 1.6 s apart', async () => {
    const result = await client.sendDecisionAndWaitForOutcome(ALICE, { title: 't' });
    const deadline = result.sent.expiresAt + DEFAULT_GRACE_MS;
    expect(result.outcome).toBe('expired');
    expect(result.observedAt).toBeGreaterThanOrEqual(deadline);
    expect(result.observedAt).toBeLessThan(deadline + 100);
    expect(polls().at(-1)!.at).toBeGreaterThanOrEqual(deadline);
    expect(
      polls()
        .slice(0, -1)
        .every((p) => p.at < deadline),
    ).toBe(true);
    expect(result.polls).toBe(polls().length);
    const gaps = polls()
      .slice(1)
      .map((p, i) => p.at - polls()[i]!.at);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(1_600);
    // Jittered, not a fixed cadence.
    expect(new Set(gaps).size).toBeGreaterThan(gaps.length / 2);
    expect(result.polls).toBeGreaterThan(62 / 1.6);
    expect(result.polls).toBeLessThan(62 / 0.8 + 5);
  });

  it('without expiresAt the wait uses the client TTL', async () => {
    server.setOutcome(ID, [{ outcome: PENDING }]);
    const start = clock.now();
    const result = await client.waitForDecisionOutcome({ decisionId: ID, identity: ALICE });
    expect(result.outcome).toBe('expired');
    expect(result.observedAt - start).toBeGreaterThanOrEqual(60_000 + DEFAULT_GRACE_MS);
    expect(result.observedAt - start).toBeLessThan(60_000 + DEFAULT_GRACE_MS + 100);
  });

  it('maxWaitMs reached first → `pending` (resumable), at the caller limit', async () => {
    server.setOutcome(ID, [{ outcome: PENDING }]);
    const start = clock.now();
    const result = await client.waitForDecisionOutcome({
      decisionId: ID,
      identity: ALICE,
      expiresAt: start + 600_000,
      maxWaitMs: 10_000,
    });
    expect(result.outcome).toBe('pending');
    expect(result.observedAt - start).toBeGreaterThanOrEqual(10_000);
    expect(result.observedAt - start).toBeLessThan(10_100);
  });

  it.each([
    [APPROVED, 'approved'],
    [REJECTED, 'rejected'],
    [EXPIRED, 'expired'],
  ] as const)('relay outcome %s at t+20 s is returned as the value %s', async (outcome, expected) => {
    const start = clock.now();
    server.setOutcome(ID, [{ outcome: PENDING }, { at: start + 20_000, outcome }]);
    const onPoll: string[] = [];
    const result = await client.waitForDecisionOutcome({
      decisionId: ID,
      identity: ALICE,
      expiresAt: start + 60_000,
      onPoll: (i) => onPoll.push(i.outcome),
    });
    expect(result.outcome).toBe(expected);
    expect(result.observedAt - start).toBeGreaterThanOrEqual(20_000);
    expect(result.observedAt - start).toBeLessThanOrEqual(21_600);
    expect(onPoll.at(-1)).toBe(expected);
    expect(onPoll.slice(0, -1).every((o) => o === 'pending')).toBe(true);
  });

  it('pending=false with PENDING is a PROTOCOL error, not an outcome', async () => {
    server.setOutcome(ID, [{ outcome: PENDING, pending: false }]);
    await expect(client.waitForDecisionOutcome({ decisionId: ID, identity: ALICE })).rejects.toMatchObject({
      code: 'PROTOCOL',
    });
    await expect(client.getDecisionOutcome({ decisionId: ID, identity: ALICE })).rejects.toMatchObject({
      code: 'PROTOCOL',
    });
    expect(polls()).toHaveLength(2);
  });

  it.each([
    [4, false],
    [4, true],
    [99, false],
    [-1, true],
  ])('unknown outcome value %i (pending=%s) is PROTOCOL, never approved', async (outcome, pending) => {
    server.setOutcome(ID, [{ outcome, pending }]);
    await expect(client.waitForDecisionOutcome({ decisionId: ID, identity: ALICE })).rejects.toMatchObject({
      code: 'PROTOCOL',
    });
    await expect(client.getDecisionOutcome({ decisionId: ID, identity: ALICE })).rejects.toMatchObject({
      code: 'PROTOCOL',
    });
  });

  it('transient relay errors during a wait are retried within the deadline', async () => {
    const start = clock.now();
    server.setOutcome(ID, [{ outcome: PENDING }, { at: start + 5_000, outcome: APPROVED }]);
    server.failNext('GetDecisionOutcome', { code: status.UNAVAILABLE }, 3);
    server.failNext('GetDecisionOutcome', {
      code: status.RESOURCE_EXHAUSTED,
      trailers: { 'noxy-error': 'RATE_LIMITED' },
    });
    server.failNext('GetDecisionOutcome', { code: status.UNKNOWN });
    server.failNext('GetDecisionOutcome', { code: status.DEADLINE_EXCEEDED });
    const result = await client.waitForDecisionOutcome({ decisionId: ID, identity: ALICE, expiresAt: start + 60_000 });
    expect(result.outcome).toBe('approved');
    expect(polls().length).toBeGreaterThanOrEqual(7);
  });

  it('a relay lost after answering is `pending` at the caller limit (resumable), not an error', async () => {
    server.setOutcome(ID, [{ outcome: PENDING }]);
    const start = clock.now();
    const result = await client.waitForDecisionOutcome({
      decisionId: ID,
      identity: ALICE,
      expiresAt: start + 60_000,
      maxWaitMs: 5_000,
      onPoll: ({ polls: n }) =>
        void (n === 1 && server.failNext('GetDecisionOutcome', { code: status.UNAVAILABLE }, 10_000)),
    });
    expect(result.outcome).toBe('pending');
    expect(polls().length).toBeGreaterThan(2);
  });

  it('a relay unreachable until the deadline is an error, not `expired`', async () => {
    server.setOutcome(ID, [{ outcome: PENDING }]);
    server.failNext('GetDecisionOutcome', { code: status.UNAVAILABLE }, 10_000);
    const start = clock.now();
    await expect(
      client.waitForDecisionOutcome({ decisionId: ID, identity: ALICE, expiresAt: start + 10_000 }),
    ).rejects.toMatchObject({ code: 'RELAY_UNAVAILABLE' });
    expect(clock.now() - start).toBeGreaterThanOrEqual(10_000 + DEFAULT_GRACE_MS);
  });

  it.each([
    [status.NOT_FOUND, 'NOT_FOUND'],
    [status.UNAUTHENTICATED, 'UNAUTHENTICATED'],
    [status.PERMISSION_DENIED, 'PERMISSION_DENIED'],
    [status.RESOURCE_EXHAUSTED, 'QUOTA_EXHAUSTED'],
  ] as const)('gRPC %s ends the wait at once with %s', async (code, noxyCode) => {
    server.setOutcome(ID, [{ outcome: PENDING }]);
    server.failNext('GetDecisionOutcome', {
      code,
      details: code === status.RESOURCE_EXHAUSTED ? 'monthly quota used' : undefined,
    });
    await expect(client.waitForDecisionOutcome({ decisionId: ID, identity: ALICE })).rejects.toMatchObject({
      code: noxyCode,
    });
    expect(polls()).toHaveLength(1);
  });

  it('an unknown decision id ends the wait with NOT_FOUND (the relay is asked once)', async () => {
    await expect(client.waitForDecisionOutcome({ decisionId: ID, identity: ALICE })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      grpcCode: status.NOT_FOUND,
    });
    expect(polls()).toHaveLength(1);
  });
});
