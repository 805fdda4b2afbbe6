import { NoxyError } from '@noxy-approval/core';
import { afterEach, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '@noxy-approval/testing';

let stack: LocalStack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  return p.then(
    () => undefined,
    (e: unknown) => (NoxyError.isInstance(e) ? e.code : String(e)),
  );
}

describe('relay limits as the agent client sees them', () => {
  it('an exhausted monthly quota → QUOTA_EXHAUSTED, and getQuota reports it', async () => {
    stack = await startLocalStack({ quotaTotal: 1, devices: [{ answer: 'never' }] });
    await stack.client.sendDecision(stack.identity, { title: 'first' });
    const sent = stack.client.sendDecision(stack.identity, { title: 'second' });
    const outcome = await sent.then((s) => s.deliveries[0]!.error?.code);
    expect(outcome).toBe('QUOTA_EXHAUSTED');
    const quota = await stack.client.getQuota();
    expect(quota.quotaTotal).toBe(1n);
    expect(quota.quotaRemaining).toBe(0n);
    expect(await codeOf(stack.client.sendDecisionAndWaitForOutcome(stack.identity, { title: 'third' }))).toBe(
      'QUOTA_EXHAUSTED',
    );
  });

  it('the per-app rate limit → RATE_LIMITED once retries give up', async () => {
    stack = await startLocalStack({
      relay: { rateLimits: { agentPerSecond: 2, devicePerSecond: 20 } },
      devices: [{ answer: 'never' }],
    });
    const codes = await Promise.all(Array.from({ length: 12 }, () => codeOf(stack!.client.getQuota())));
    expect(codes).toContain('RATE_LIMITED');
    expect(codes).toContain(undefined);
  });
});
