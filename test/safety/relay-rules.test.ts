/**
 * The relay's safety rules, each with a test of its own that fails when the rule's check is
 * removed (issue 13 item 7). They were guarded by one test or none: a device can only answer or
 * acknowledge, as itself, a decision routed to itself; the store keeps the first outcome of a
 * decision whatever calls it; expiry never overwrites a terminal outcome; unknown decision ids
 * are refused on both APIs.
 */
import { randomUUID } from 'node:crypto';
import { status as grpcStatus } from '@grpc/grpc-js';
import { agent, device } from '@noxy-approval/proto';
import { createApp, RelayStore } from '@noxy-approval/relay';
import { fakeEnvelope, startTestRelay, type DeviceHandle, type TestRelay } from '@noxy-approval/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const E = device.ErrorCode;
const O = agent.DecisionOutcome;
const errorOf = (r: device.DeviceResponse) => (r.payload?.$case === 'error' ? r.payload.value : undefined);

let t: TestRelay;
let x: DeviceHandle;
let y: DeviceHandle;
const IDENTITY = 'alice@example.com';
beforeEach(async () => {
  t = await startTestRelay();
  // Two devices of the same identity: X is a legitimate device of Alice, and still may not act
  // for Y on a decision routed only to Y.
  x = await t.addDevice({ identityType: 'email', identityId: IDENTITY });
  y = await t.addDevice({ identityType: 'email', identityId: IDENTITY });
});
afterEach(async () => {
  await t.close();
});

async function routeToY(ttlSeconds = 600): Promise<string> {
  const out = await t.agent.route({ targetDeviceId: y.deviceId, ttlSeconds, ...fakeEnvelope() });
  expect(out.status).toBe(agent.DeliveryStatus.DELIVERED);
  await y.dev.nextEvent(out.decisionId);
  return out.decisionId;
}

async function outcomeOf(decisionId: string): Promise<agent.DecisionOutcome> {
  return (await t.agent.outcome(decisionId, IDENTITY)).outcome;
}

describe('a device acts only as itself, on decisions routed to itself', () => {
  it("another device's device_id in decision_outcome / decision_ack is refused; it stays pending", async () => {
    const id = await routeToY();
    const answer = await x.dev.request(
      {
        $case: 'decisionOutcome',
        value: { decisionId: id, outcome: device.DecisionOutcomeValue.APPROVE, receivedAt: 1n },
      },
      { deviceId: y.deviceId },
    );
    expect(errorOf(answer)).toMatchObject({ code: E.UNAUTHORIZED, message: '"device_id" does not match the session' });
    const ack = await x.dev.request(
      { $case: 'decisionAck', value: { decisionId: id, receivedAt: 1n } },
      { deviceId: y.deviceId },
    );
    expect(errorOf(ack)).toMatchObject({ code: E.UNAUTHORIZED, message: '"device_id" does not match the session' });
    expect(await outcomeOf(id)).toBe(O.DECISION_OUTCOME_PENDING);
    // Still open for its own device: Y's answer is the one that closes it.
    expect((await y.dev.outcome(id, 'REJECT')).payload?.$case).toBe('decisionOutcome');
    expect(await outcomeOf(id)).toBe(O.DECISION_OUTCOME_REJECTED);
  });

  it('an outcome or ack for a decision never routed to this device is refused; it stays pending', async () => {
    const id = await routeToY();
    expect(errorOf(await x.dev.outcome(id, 'APPROVE'))).toMatchObject({
      code: E.INVALID_REQUEST,
      message: 'unknown decision_id for this device',
    });
    expect(errorOf(await x.dev.ack(id))).toMatchObject({
      code: E.INVALID_REQUEST,
      message: 'unknown decision_id for this device',
    });
    expect(await outcomeOf(id)).toBe(O.DECISION_OUTCOME_PENDING);
    expect((await y.dev.outcome(id, 'APPROVE')).payload?.$case).toBe('decisionOutcome');
    expect(await outcomeOf(id)).toBe(O.DECISION_OUTCOME_APPROVED);
  });
});

describe('unknown decision ids are refused', () => {
  it('on the device API (outcome, ack) and the agent API (GetDecisionOutcome NOT_FOUND)', async () => {
    const unknown = randomUUID();
    for (const r of [await y.dev.outcome(unknown, 'APPROVE'), await y.dev.ack(unknown)]) {
      expect(errorOf(r)).toMatchObject({ code: E.INVALID_REQUEST, message: 'unknown decision_id for this device' });
    }
    await expect(t.agent.outcome(unknown, IDENTITY)).rejects.toMatchObject({ code: grpcStatus.NOT_FOUND });
    // A known id under another identity is unknown too.
    const id = await routeToY();
    await expect(t.agent.outcome(id, 'bob@example.com')).rejects.toMatchObject({ code: grpcStatus.NOT_FOUND });
  });
});

describe('expiry never overwrites a terminal outcome', () => {
  it('an approval stays APPROVED past its TTL (sweep and lazy expiry); a late answer is refused', async () => {
    const id = await routeToY(60);
    expect((await y.dev.outcome(id, 'APPROVE')).payload?.$case).toBe('decisionOutcome');
    t.clock.advance(61_000);
    t.relay.sweepExpired();
    expect(await outcomeOf(id)).toBe(O.DECISION_OUTCOME_APPROVED);

    // The other way round: expired first, then no answer turns it into an approval.
    const late = await routeToY(60);
    t.clock.advance(61_000);
    expect(errorOf(await y.dev.outcome(late, 'APPROVE'))).toMatchObject({
      code: E.INVALID_REQUEST,
      message: 'decision expired',
    });
    expect(await outcomeOf(late)).toBe(O.DECISION_OUTCOME_EXPIRED);
    expect(await outcomeOf(id)).toBe(O.DECISION_OUTCOME_APPROVED);
  });
});

describe("the store's first-write-wins, without the engine", () => {
  it('finalising twice refuses the second write and leaves the first outcome and status unchanged', () => {
    const store = RelayStore.open(':memory:');
    try {
      const app = createApp(store, 1_000, { name: 'store-rule' });
      const key = { appId: app.appId, decisionId: randomUUID(), identityId: IDENTITY };
      store.decisions.insertDecision(key, 'email', 1_000, 61_000);
      const first = { ...key, outcome: 'APPROVED' as const, deviceId: 'dev-1', decidedAt: 2_000, receivedAt: 1_900 };
      expect(store.decisions.finalize(first)).toBe(true);
      for (const outcome of ['REJECTED', 'EXPIRED', 'APPROVED'] as const) {
        const again = { ...key, outcome, deviceId: 'dev-2', decidedAt: 3_000, receivedAt: undefined };
        expect(store.decisions.finalize(again)).toBe(false);
      }
      expect(store.decisions.getOutcome(key)).toMatchObject({
        outcome: 'APPROVED',
        deviceId: 'dev-1',
        decidedAt: 2_000,
      });
      expect(store.decisions.getDecision(key)?.status).toBe('APPROVED');
    } finally {
      store.close();
    }
  });
});
