import { randomUUID } from 'node:crypto';
import { Client, credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { agent } from '@noxy-approval/proto';
import { startTestRelay, type TestRelay, RawAgent, grpcTargetOf } from '@noxy-approval/testing';
import { afterEach, describe, expect, it } from 'vitest';

const S = agent.DeliveryStatus;

async function failure(p: Promise<unknown>): Promise<ServiceError> {
  try {
    await p;
  } catch (error) {
    return error as ServiceError;
  }
  throw new Error('expected the call to fail');
}

let t: TestRelay;
afterEach(async () => {
  await t.close();
});

describe('authentication', () => {
  it('answers a missing or wrong app token with UNAUTHENTICATED and never echoes the token', async () => {
    t = await startTestRelay();
    for (const token of [undefined, 'noxy_at_wrong', t.app.appToken.slice(0, -1)]) {
      const bad = new RawAgent(t.relay.grpcUrl, token);
      const e = await failure(bad.quota());
      expect(e.code).toBe(status.UNAUTHENTICATED);
      if (token) expect(e.details).not.toContain(token);
      bad.close();
    }
    expect((await t.agent.quota()).appName).toBe('test-app');
    // Only a hash of the token is stored.
    const rows = t.relay.store.db.prepare('SELECT * FROM apps').all();
    expect(JSON.stringify(rows)).not.toContain(t.app.appToken);
  });

  it('keeps apps apart: another app cannot see, route to, or poll this app’s devices and decisions', async () => {
    t = await startTestRelay();
    const { deviceId } = await t.addDevice({ identityType: 'email', identityId: 'x@example.com' });
    const decisionId = randomUUID();
    await t.agent.route({ targetDeviceId: deviceId, decisionId });
    const other = t.relay.createApp({ name: 'other' });
    const otherAgent = new RawAgent(t.relay.grpcUrl, other.appToken);
    try {
      expect((await otherAgent.devices('x@example.com')).devices).toEqual([]);
      expect(await otherAgent.route({ targetDeviceId: deviceId })).toMatchObject({
        status: S.NO_DEVICES,
        decisionId: '',
      });
      expect((await failure(otherAgent.outcome(decisionId, 'x@example.com'))).code).toBe(status.NOT_FOUND);
    } finally {
      otherAgent.close();
    }
  });
});

describe('GetDecisionOutcome', () => {
  it('answers NOT_FOUND for an unknown id, another identity or another app — never APPROVED', async () => {
    t = await startTestRelay();
    const { deviceId } = await t.addDevice({ identityType: 'user_id', identityId: 'owner' });
    const decisionId = randomUUID();
    await t.agent.route({ targetDeviceId: deviceId, decisionId });
    expect((await failure(t.agent.outcome(randomUUID(), 'owner'))).code).toBe(status.NOT_FOUND);
    expect((await failure(t.agent.outcome(decisionId, 'someone-else'))).code).toBe(status.NOT_FOUND);
    expect((await failure(t.agent.outcome('', 'owner'))).code).toBe(status.INVALID_ARGUMENT);
    expect(await t.agent.outcome(decisionId, 'owner')).toMatchObject({
      pending: true,
      outcome: agent.DecisionOutcome.DECISION_OUTCOME_PENDING,
    });
  });
});

describe('RouteDecision', () => {
  it('is idempotent per request_id: same answer, nothing new stored or sent', async () => {
    t = await startTestRelay();
    const { dev, deviceId } = await t.addDevice({ identityType: 'user_id', identityId: 'idem' });
    const requestId = randomUUID();
    const decisionId = randomUUID();
    const first = await t.agent.route({ requestId, decisionId, targetDeviceId: deviceId });
    await dev.nextEvent(decisionId);
    const retry = await t.agent.route({ requestId, decisionId, targetDeviceId: deviceId });
    expect(retry).toEqual(first);
    // A retry with a new request id (Python SDK) for the same decision and device: no second copy.
    const pythonRetry = await t.agent.route({ decisionId, targetDeviceId: deviceId });
    expect(pythonRetry).toMatchObject({ status: S.DELIVERED, decisionId });
    await new Promise((r) => setTimeout(r, 50));
    expect(dev.events('decisionEvent')).toHaveLength(1);
    expect((await t.agent.quota()).quotaRemaining).toBe(9_999n);
  });

  it('chooses a decision id when none is sent and returns it on retries', async () => {
    t = await startTestRelay();
    const { dev, deviceId } = await t.addDevice({ identityType: 'user_id', identityId: 'noid' });
    const requestId = randomUUID();
    const first = await t.agent.route({ requestId, decisionId: '', targetDeviceId: deviceId });
    expect(first.decisionId).toMatch(/^[0-9a-f-]{36}$/);
    expect((await dev.nextEvent(first.decisionId)).messageId).toBe(first.decisionId);
    expect((await t.agent.route({ requestId, decisionId: '', targetDeviceId: deviceId })).decisionId).toBe(
      first.decisionId,
    );
  });

  it('names the field of a malformed request', async () => {
    t = await startTestRelay();
    const { deviceId } = await t.addDevice({ identityType: 'user_id', identityId: 'bad' });
    const cases: Array<[Partial<agent.RouteDecisionRequest>, string]> = [
      [{ requestId: '' }, 'request_id'],
      [{ kyberCt: Buffer.alloc(10) }, 'kyber_ct'],
      [{ nonce: Buffer.alloc(16) }, 'nonce'],
      [{ ciphertext: Buffer.alloc(3) }, 'ciphertext'],
    ];
    for (const [patch, field] of cases) {
      const e = await failure(t.agent.route({ targetDeviceId: deviceId, ...patch }));
      expect(e.code).toBe(status.INVALID_ARGUMENT);
      expect(e.details).toContain(`"${field}"`);
    }
  });

  it('answers undecodable request bytes with INVALID_ARGUMENT and keeps serving', async () => {
    t = await startTestRelay();
    const raw = new Client(grpcTargetOf(t.relay.grpcUrl), credentials.createInsecure());
    const md = new Metadata();
    md.set('authorization', `Bearer ${t.app.appToken}`);
    const e = await new Promise<ServiceError>((resolve) => {
      raw.makeUnaryRequest<Buffer, Buffer>(
        '/noxy.agent.AgentService/RouteDecision',
        (b) => b,
        (b) => b,
        Buffer.from([0x0a, 0xff, 0xff]),
        md,
        (err) => resolve(err!),
      );
    });
    raw.close();
    expect(e.code).toBe(status.INVALID_ARGUMENT);
    expect(e.details).toContain('malformed RouteDecision');
    expect((await t.agent.quota()).appName).toBe('test-app');
  });
});

describe('quota and rate limits', () => {
  it('counts decision ids, not devices; then RESOURCE_EXHAUSTED "quota" and noxy-error: QUOTA_EXHAUSTED', async () => {
    t = await startTestRelay({ quotaTotal: 2 });
    const id = { identityType: 'user_id' as const, identityId: 'q' };
    const a = await t.addDevice(id);
    const b = await t.addDevice(id);
    const first = randomUUID();
    await t.agent.route({ targetDeviceId: a.deviceId, decisionId: first });
    await t.agent.route({ targetDeviceId: b.deviceId, decisionId: first });
    expect(await t.agent.quota()).toMatchObject({
      quotaTotal: 2n,
      quotaRemaining: 1n,
      status: agent.QuotaStatus.QUOTA_ACTIVE,
    });
    await t.agent.route({ targetDeviceId: a.deviceId });
    expect((await t.agent.quota()).quotaRemaining).toBe(0n);
    const e = await failure(t.agent.route({ targetDeviceId: a.deviceId }));
    expect(e.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(e.details).toContain('quota');
    expect(e.metadata.get('noxy-error')).toEqual(['QUOTA_EXHAUSTED']);
    // More devices for an already counted decision still go through.
    const c = await t.addDevice(id);
    expect((await t.agent.route({ targetDeviceId: c.deviceId, decisionId: first })).status).toBe(S.DELIVERED);
    // A new month resets the count.
    t.clock.advance(31 * 24 * 3600 * 1000);
    expect((await t.agent.quota()).quotaRemaining).toBe(2n);
  });

  it('rate-limits each app with RESOURCE_EXHAUSTED, grpc-retry-pushback-ms and noxy-error: RATE_LIMITED', async () => {
    t = await startTestRelay({ rateLimits: { agentPerSecond: 5 } });
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => t.agent.quota()));
    const rejected = results
      .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
      .map((r) => r.reason as ServiceError);
    expect(results.length - rejected.length).toBe(5);
    expect(rejected).toHaveLength(3);
    for (const e of rejected) {
      expect(e.code).toBe(status.RESOURCE_EXHAUSTED);
      expect(e.details).not.toContain('quota');
      expect(e.metadata.get('noxy-error')).toEqual(['RATE_LIMITED']);
      expect(Number(e.metadata.get('grpc-retry-pushback-ms')[0])).toBeGreaterThan(0);
    }
    // Another app has its own bucket; this one refills with the (injected) clock.
    const other = t.relay.createApp({ name: 'other' });
    const otherAgent = new RawAgent(t.relay.grpcUrl, other.appToken);
    expect((await otherAgent.quota()).appName).toBe('other');
    otherAgent.close();
    t.clock.advance(1000);
    expect((await t.agent.quota()).appName).toBe('test-app');
  });
});

describe('GetIdentityDevices and the v1 push API', () => {
  it('lists active devices without their Ed25519 keys by default', async () => {
    t = await startTestRelay();
    const a = await t.addDevice({ identityType: 'phone', identityId: '+15550000001' });
    const listed = await t.agent.devices('+15550000001');
    expect(listed.devices).toEqual([
      // An official-SDK device (no proof of possession): no key, no rotations, no device_proof flag.
      { deviceId: a.deviceId, publicKey: Buffer.alloc(0), pqPublicKey: a.keys.pqPublicKey, keyRotations: [] },
    ]);
  });

  it('returns the Ed25519 keys when exposeDeviceSigningKeys is set', async () => {
    t = await startTestRelay({ exposeDeviceSigningKeys: true });
    const a = await t.addDevice({ identityType: 'user_id', identityId: 'k' });
    expect((await t.agent.devices('k')).devices[0]!.publicKey.equals(a.keys.publicKey)).toBe(true);
  });

  it('delivers a v1 PushNotification as a decision event', async () => {
    t = await startTestRelay();
    const { dev, deviceId } = await t.addDevice({ identityType: 'user_id', identityId: 'v1' });
    const event = dev.nextEvent();
    const r = await t.agent.push({ targetDeviceId: deviceId });
    expect(r.status).toBe(S.DELIVERED);
    expect((await event).payload?.$case).toBe('decisionEvent');
  });
});
