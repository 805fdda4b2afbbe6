/**
 * The relay's expiry never exceeds the agent's by more than the send's duration (issue 13
 * item 3). The agent fixes `expires_at` before it sends; the relay starts the same TTL when the
 * RouteDecision arrives, so with 800 ms of link delay the relay's expiry is exactly 800 ms
 * later, never more, and a retried or repeated send of the decision does not restart it. (The
 * agent's gate refuses approvals first observed after its own `expires_at`; see core.)
 * The link delay is the relay's ManualClock moving between the agent's clock reading and the
 * call's arrival.
 */
import { agent, device } from '@noxy-approval/proto';
import { fakeEnvelope, startTestRelay, type TestRelay } from '@noxy-approval/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const LINK_DELAY_MS = 800;
const TTL_S = 30;
const O = agent.DecisionOutcome;

let t: TestRelay;
beforeEach(async () => {
  t = await startTestRelay();
});
afterEach(async () => {
  await t.close();
});

describe('relay expiry versus the agent expiry', () => {
  it('is the agent expiry plus the link delay, not more, and a resend does not restart it', async () => {
    const { dev, deviceId } = await t.addDevice({ identityType: 'email', identityId: 'late@example.com' });
    const decisionId = '5b1f2c7e-0d0a-4f4e-9c55-3f1c1b9f6a01';
    const agentExpiresAt = t.clock.now() + TTL_S * 1000; // fixed by the agent before it sends
    t.clock.advance(LINK_DELAY_MS);
    const envelope = fakeEnvelope();
    const first = await t.agent.route({ targetDeviceId: deviceId, decisionId, ttlSeconds: TTL_S, ...envelope });
    expect(first.status).toBe(agent.DeliveryStatus.DELIVERED);
    await dev.nextEvent(decisionId);

    // The agent retries 5 s later under a new request id (its first answer was lost): the
    // decision is the same one, and its expiry stays where the first arrival put it.
    t.clock.advance(5_000);
    const again = await t.agent.route({ targetDeviceId: deviceId, decisionId, ttlSeconds: TTL_S, ...envelope });
    expect(again.decisionId).toBe(decisionId);

    // 1 ms before the agent's expiry plus the link delay: still open at the relay.
    t.clock.advance(agentExpiresAt + LINK_DELAY_MS - 1 - t.clock.now());
    t.relay.sweepExpired();
    expect((await t.agent.outcome(decisionId, 'late@example.com')).outcome).toBe(O.DECISION_OUTCOME_PENDING);
    t.clock.advance(1);
    t.relay.sweepExpired();
    expect((await t.agent.outcome(decisionId, 'late@example.com')).outcome).toBe(O.DECISION_OUTCOME_EXPIRED);
    const late = await dev.outcome(decisionId, 'APPROVE');
    expect(late.payload).toMatchObject({ $case: 'error', value: { code: device.ErrorCode.INVALID_REQUEST } });
    expect((await t.agent.outcome(decisionId, 'late@example.com')).outcome).toBe(O.DECISION_OUTCOME_EXPIRED);
  });
});
