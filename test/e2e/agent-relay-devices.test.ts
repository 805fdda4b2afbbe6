import type { IdentityInput } from '@noxy-approval/core';
import { afterEach, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '@noxy-approval/testing';

let stack: LocalStack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

/** Resolves when `check` holds, polling every 10 ms for at most `ms`. */
async function eventually(check: () => boolean, ms = 3_000): Promise<void> {
  for (let waited = 0; !check(); waited += 10) {
    if (waited > ms) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('core client → local relay → devices of one identity', () => {
  it('three devices (gRPC, WebSocket): first answer decides, others get soft-cancel, later ones no-op', async () => {
    stack = await startLocalStack({
      devices: [
        { transport: 'grpc', answer: 'never' },
        { transport: 'websocket', answer: 'reject', delayMs: 50 },
        { transport: 'grpc', answer: 'never' },
      ],
    });
    const routed: string[][] = stack.devices.map(() => []);
    for (const [i, d] of stack.devices.entries()) d.on('routed', (r) => void routed[i]!.push(r.decisionId));
    const result = await stack.client.sendDecisionAndWaitForOutcome(stack.identity, {
      kind: 'propose_tool_call',
      tool: 'rm',
      args: { path: '/' },
      title: 'Delete everything',
    });
    expect(result.outcome).toBe('rejected');
    expect(result.sent.deliveries.map((d) => d.status)).toEqual(['delivered', 'delivered', 'delivered']);
    // Every device decrypted the same decision id.
    expect(stack.received.map((r) => r[0]?.decisionId)).toEqual([
      result.decisionId,
      result.decisionId,
      result.decisionId,
    ]);
    await eventually(() => routed[0]!.length === 1 && routed[2]!.length === 1);
    expect(routed[0]).toEqual([result.decisionId]);
    expect(routed[1]).toEqual([]);
    // A late approval on another device is answered with the first outcome and changes nothing.
    const late = await stack.devices[0]!.decide(result.decisionId, 'approve');
    expect(late).toMatchObject({ outcome: 'reject', requested: 'approve' });
    const after = await stack.client.getDecisionOutcome({ decisionId: result.decisionId, identity: stack.identity });
    expect(after.outcome).toBe('rejected');
  });

  it.each<[string, IdentityInput]>([
    ['wallet', '0x742d35Cc6634C0532925a3b844Bc454e4438f44e'],
    ['email', 'bob@example.org'],
    ['phone', '+15551234567'],
    ['user_id', { type: 'user_id', id: 'user-42' }],
  ])('works end to end for a %s identity', async (_kind, identity) => {
    stack = await startLocalStack({ identity, devices: [{ transport: 'websocket' }] });
    const result = await stack.client.sendDecisionAndWaitForOutcome(identity, { title: 'ok?' });
    expect(result.outcome).toBe('approved');
  });

  it('a decision sent while the device is offline is delivered when it connects', async () => {
    stack = await startLocalStack({ devices: [{ answer: 'approve' }] });
    const device = stack.devices[0]!;
    device.close();
    await eventually(() => stack!.relay.liveDevices() === 0);
    const sent = await stack.client.sendDecision(stack.identity, { title: 'queued' });
    expect(sent.deliveries[0]!.status).toBe('queued');
    // A fresh device object with the same keys stands for the phone coming back online.
    const back = await stack.newDevice(0);
    const seen: string[] = [];
    back.on('decision', (d) => {
      seen.push(d.decisionId);
      void back.decide(d.decisionId, 'approve');
    });
    await back.connect();
    const result = await stack.client.waitForDecisionOutcome({
      decisionId: sent.decisionId,
      identity: stack.identity,
      expiresAt: sent.expiresAt,
    });
    expect(result.outcome).toBe('approved');
    expect(seen).toEqual([sent.decisionId]);
  });
});
