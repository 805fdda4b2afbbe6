/**
 * The per-app byte budget on RouteDecision (rate-limit.ts): an app routing large envelopes past
 * its budget is refused with RESOURCE_EXHAUSTED and a pushback, nothing is stored for the refused
 * call, another app is not affected, and the app passes again once its budget has refilled.
 */
import { status, type ServiceError } from '@grpc/grpc-js';
import { fakeEnvelope, RawAgent, startTestRelay, type TestRelay } from '@noxy-approval/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { MIN_BYTE_BURST } from './rate-limit.js';

const MIB = 1 << 20;
let t: TestRelay | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('RouteDecision byte budget per app', () => {
  it('refuses an app over its budget with a pushback; others pass; it passes again after the pushback', async () => {
    // 10 msg/s → 800 KiB/s of envelopes, with a burst of one largest envelope (just over 4 MiB).
    t = await startTestRelay({ maxCiphertextBytes: MIB, rateLimits: { agentPerSecond: 10 } });
    const relay = t.relay;
    const { deviceId } = await t.addDevice(
      { identityType: 'email', identityId: 'big@example.com' },
      { subscribe: false },
    );
    const rows = () => Number(relay.store.db.prepare('SELECT count(*) FROM deliveries').pluck().get());
    const passed = Math.floor(MIN_BYTE_BURST / (MIB + 1100));
    for (let i = 0; i < passed; i++) await t.agent.route({ targetDeviceId: deviceId, ...fakeEnvelope(MIB) });
    expect(rows()).toBe(passed);

    const refused = await t.agent.route({ targetDeviceId: deviceId, ...fakeEnvelope(MIB) }).then(
      () => undefined,
      (e: ServiceError) => e,
    );
    expect(refused?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(refused?.details).toMatch(/MiB of envelopes per second per app/);
    const pushback = Number(refused?.metadata.get('grpc-retry-pushback-ms')[0]);
    expect(pushback).toBeGreaterThan(0);
    expect(pushback).toBeLessThanOrEqual(Math.ceil(((MIB + 1100) * 1000) / (10 * (80 << 10))));
    expect(refused?.metadata.get('noxy-error')).toEqual(['RATE_LIMITED']);
    expect(rows()).toBe(passed);

    // Small decisions of the same app still fit what is left; another app has its own budget.
    await t.agent.route({ targetDeviceId: deviceId, ...fakeEnvelope(256) });
    const other = relay.createApp({ name: 'other' });
    const bystander = new RawAgent(relay.grpcUrl, other.appToken);
    try {
      await expect(bystander.quota()).resolves.toMatchObject({ appName: 'other' });
    } finally {
      bystander.close();
    }

    // One envelope's worth of refill (800 KiB/s): it passes again.
    t.clock.advance(Math.ceil(((MIB + 1100) * 1000) / (10 * (80 << 10))));
    await t.agent.route({ targetDeviceId: deviceId, ...fakeEnvelope(MIB) });
    expect(rows()).toBe(passed + 2);
  });
});
