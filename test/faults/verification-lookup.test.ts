/**
 * Found by C1 (SIGKILLs during waits), made deterministic with the relay's fault hooks: once a
 * wait has seen its terminal outcome, the client checks the deciding device's signature, which
 * may need GetIdentityDevices (first use of the device's key). When that lookup meets a relay
 * that is down (UNAVAILABLE on every attempt), the outcome must still reach the caller —
 * `verification` saying it could not be checked; with `requireDeviceSignature` an approval
 * that cannot be verified is refused, never returned as approved.
 */
import type { AgentFault } from '@noxy-approval/relay';
import { startLocalStack } from '@noxy-approval/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { figure } from './reconciler.js';

const IDENTITY = 'alice@example.com';
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function stackWhoseLookupsFailAfterTheSend(requireDeviceSignature: boolean) {
  let lookups = 0;
  const stack = await startLocalStack({
    devices: [{ answer: 'approve', delayMs: 50 }],
    client: { requireDeviceSignature, timeouts: { routeDecision: 3_000, getDecisionOutcome: 2_000, other: 1_000 } },
    relay: {
      faults: {
        agent: (method): AgentFault | undefined =>
          method === 'getIdentityDevices' && lookups++ > 0 ? { kind: 'unavailable' } : undefined,
      },
    },
  });
  cleanup.push(() => stack.close());
  return stack;
}

describe('a terminal outcome whose signature check cannot reach the relay', () => {
  it('is still returned by the wait, unverified, with the reason', async () => {
    const stack = await stackWhoseLookupsFailAfterTheSend(false);
    const sent = await stack.client.sendDecision(IDENTITY, { title: 'verify me' });
    const result = await stack.client
      .waitForDecisionOutcome({ decisionId: sent.decisionId, identity: IDENTITY, expiresAt: sent.expiresAt })
      .catch((e: Error) => e);
    figure('C1', 'wait whose device-key lookup fails', result instanceof Error ? result.message : result.outcome);
    expect(result).toMatchObject({ outcome: 'approved', verification: { verified: false, reason: 'lookup_failed' } });
  });

  it('with requireDeviceSignature: never approved without a verified signature', async () => {
    const stack = await stackWhoseLookupsFailAfterTheSend(true);
    const sent = await stack.client.sendDecision(IDENTITY, { title: 'verify me' });
    const result = await stack.client
      .waitForDecisionOutcome({ decisionId: sent.decisionId, identity: IDENTITY, expiresAt: sent.expiresAt })
      .catch((e: Error) => e);
    expect(result).toMatchObject({ outcome: 'rejected', verification: { verified: false, reason: 'lookup_failed' } });
  });
});
