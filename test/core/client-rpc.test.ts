import { createNoxyClient, loadKemBackend, nodeAead, openEnvelope, type NoxyClient } from '@noxy-approval/core';
import { agent } from '@noxy-approval/proto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentTestServer, ManualClock as AutoClock, type RecordedCall, type TestDevice } from '@noxy-approval/testing';

const TOKEN = 'tok_live_0123456789abcdef';
const ALICE = 'alice@example.com';
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let server: AgentTestServer;
let client: NoxyClient;
let devices: TestDevice[];

beforeEach(async () => {
  server = await AgentTestServer.start();
  devices = await server.addDevices(ALICE, 3);
  client = createNoxyClient({ endpoint: server.endpoint, authToken: TOKEN });
});

afterEach(async () => {
  client.close();
  await server.close();
});

/** What the device reads: its own envelope opened with its own ML-KEM secret key. */
async function plaintext(call: RecordedCall, device: TestDevice): Promise<string> {
  const kem = await loadKemBackend('mlkem');
  const r = call.request as { kyberCt: Buffer; nonce: Buffer; ciphertext: Buffer };
  const plain = await openEnvelope(
    { kyberCt: r.kyberCt, nonce: r.nonce, ciphertext: r.ciphertext },
    device.secretKey!,
    kem,
    nodeAead,
  );
  return new TextDecoder().decode(plain);
}

async function decrypt(call: RecordedCall, device: TestDevice): Promise<unknown> {
  return JSON.parse(await plaintext(call, device));
}

function expectBearerOnEveryCall(): void {
  expect(server.calls.length).toBeGreaterThan(0);
  for (const call of server.calls) expect(call.authorization, call.method).toBe(`Bearer ${TOKEN}`);
}

describe('agent client over real gRPC', () => {
  it('sendDecision: each device gets an envelope only it can open, one decision_id, fresh kyber_ct/nonce', async () => {
    const decision = { title: 'Deploy v2 to prod?', args: { env: 'prod', replicas: 3 }, amount: 12345678901234567890n };
    const sent = await client.sendDecision(ALICE, decision);

    expect(sent.decisionId).toMatch(UUID_V4);
    expect(sent.identity).toEqual({ type: 'email', id: ALICE });
    expect(sent.delivered).toBe(3);
    expect(sent.deliveries.map((d) => [d.deviceId, d.status])).toEqual(devices.map((d) => [d.deviceId, 'delivered']));
    expect(sent.expiresAt).toBeGreaterThan(Date.now() + 590_000);

    const routes = server.callsTo('RouteDecision');
    expect(routes).toHaveLength(3);
    expect(server.callsTo('GetIdentityDevices')[0]!.request.identityId).toBe(ALICE);
    const expected = {
      title: 'Deploy v2 to prod?',
      args: { env: 'prod', replicas: 3 },
      // biome-ignore lint/correctness/noPrecisionLoss: the value the official SDK's bigint-JSON path sees
      amount: 12345678901234567890,
    };
    for (const call of routes) {
      const device = devices.find((d) => d.deviceId === call.request.targetDeviceId)!;
      expect(call.request.decisionId).toBe(sent.decisionId);
      expect(call.request.ttlSeconds).toBe(600);
      expect(call.request.requestId).toMatch(UUID_V4);
      expect(await decrypt(call, device)).toEqual(expected);
      // The bigint travels as bare digits, exactly.
      expect(await plaintext(call, device)).toContain('"amount":12345678901234567890}');
      // No one else can open it: another device's key fails authentication.
      const other = devices.find((d) => d !== device)!;
      await expect(decrypt(call, other)).rejects.toMatchObject({ code: 'CRYPTO' });
    }
    const fields = (name: string) => new Set(routes.map((c) => Buffer.from(c.request[name] as Buffer).toString('hex')));
    expect(fields('kyberCt').size).toBe(3);
    expect(fields('nonce').size).toBe(3);
    expect(fields('ciphertext').size).toBe(3);
    expect(new Set(routes.map((c) => c.request.requestId)).size).toBe(3);
    expectBearerOnEveryCall();
  });

  it('sendDecision honours decisionId and ttlSeconds options', async () => {
    const decisionId = '6f1c2a8e-3b4d-4e5f-8a9b-0c1d2e3f4a5b';
    const sent = await client.sendDecision(
      { type: 'email', id: ALICE },
      { title: 't' },
      { decisionId, ttlSeconds: 30 },
    );
    expect(sent.decisionId).toBe(decisionId);
    expect(sent.ttlSeconds).toBe(30);
    expect(server.callsTo('RouteDecision').map((c) => [c.request.decisionId, c.request.ttlSeconds])).toEqual(
      Array(3).fill([decisionId, 30]),
    );
  });

  it('sendDecision to an identity without devices is NO_DEVICES and routes nothing', async () => {
    await expect(client.sendDecision('bob@example.com', { title: 't' })).rejects.toMatchObject({
      name: 'NoxyError',
      code: 'NO_DEVICES',
    });
    expect(server.callsTo('RouteDecision')).toHaveLength(0);
  });

  it('getDecisionOutcome maps each wire outcome and sends decision and identity ids', async () => {
    const decisionId = 'a0a0a0a0-b1b1-4c2c-8d3d-e4e4e4e4e4e4';
    const cases: [agent.DecisionOutcome, boolean, string][] = [
      [agent.DecisionOutcome.DECISION_OUTCOME_PENDING, true, 'pending'],
      [agent.DecisionOutcome.DECISION_OUTCOME_APPROVED, false, 'approved'],
      [agent.DecisionOutcome.DECISION_OUTCOME_REJECTED, false, 'rejected'],
      [agent.DecisionOutcome.DECISION_OUTCOME_EXPIRED, false, 'expired'],
    ];
    for (const [outcome, pending, expected] of cases) {
      server.setOutcome(decisionId, [{ outcome, pending }]);
      // An official-SDK device sends no signature: approved and rejected say so (docs/security.md).
      const terminal = expected === 'approved' || expected === 'rejected';
      await expect(client.getDecisionOutcome({ decisionId, identity: ALICE })).resolves.toEqual({
        decisionId,
        outcome: expected,
        pending,
        ...(terminal ? { verification: { verified: false, reason: 'unsigned' } } : {}),
      });
    }
    const polls = server.callsTo('GetDecisionOutcome');
    expect(polls).toHaveLength(4);
    for (const p of polls)
      expect(p.request).toMatchObject({ decisionId, identityId: ALICE, requestId: expect.stringMatching(UUID_V4) });
    expect(new Set(polls.map((p) => p.request.requestId)).size).toBe(4);
    expectBearerOnEveryCall();
  });

  it('waitForDecisionOutcome returns approved once the human answers', async () => {
    const clock = new AutoClock();
    void server.close();
    server = await AgentTestServer.start({ now: () => clock.now() });
    const c = createNoxyClient({ endpoint: server.endpoint, authToken: TOKEN, clock });
    try {
      const decisionId = 'b0b0b0b0-b1b1-4c2c-8d3d-e4e4e4e4e4e4';
      const t0 = clock.now();
      server.setOutcome(decisionId, [
        { outcome: agent.DecisionOutcome.DECISION_OUTCOME_PENDING },
        { at: t0 + 5_000, outcome: agent.DecisionOutcome.DECISION_OUTCOME_APPROVED },
      ]);
      const result = await c.waitForDecisionOutcome({ decisionId, identity: ALICE });
      expect(result.outcome).toBe('approved');
      expect(result.decisionId).toBe(decisionId);
      expect(result.polls).toBe(server.callsTo('GetDecisionOutcome').length);
      // Seen within one poll interval (≤ 1.6 s) of the human's answer.
      expect(result.observedAt).toBeGreaterThanOrEqual(t0 + 5_000);
      expect(result.observedAt).toBeLessThanOrEqual(t0 + 5_000 + 1_600);
      expectBearerOnEveryCall();
    } finally {
      c.close();
    }
  });

  it('sendDecisionAndWaitForOutcome routes then polls the same decision_id with the routing identity', async () => {
    const clock = new AutoClock();
    void server.close();
    server = await AgentTestServer.start({ now: () => clock.now() });
    devices = await server.addDevices('+15551234567', 2);
    const c = createNoxyClient({ endpoint: server.endpoint, authToken: TOKEN, clock });
    try {
      const decisionId = 'c0c0c0c0-b1b1-4c2c-8d3d-e4e4e4e4e4e4';
      server.setOutcome(decisionId, [
        { outcome: 0 },
        { at: clock.now() + 3_000, outcome: agent.DecisionOutcome.DECISION_OUTCOME_REJECTED },
      ]);
      const result = await c.sendDecisionAndWaitForOutcome('+15551234567', { title: 'Pay?' }, { decisionId });
      expect(result.outcome).toBe('rejected');
      expect(result.sent.decisionId).toBe(decisionId);
      expect(result.sent.delivered).toBe(2);
      const polls = server.callsTo('GetDecisionOutcome');
      expect(polls.length).toBeGreaterThanOrEqual(2);
      for (const p of polls) expect(p.request).toMatchObject({ decisionId, identityId: '+15551234567' });
      expectBearerOnEveryCall();
    } finally {
      c.close();
    }
  });

  it('getQuota maps the quota (uint64 as bigint)', async () => {
    server.quota = {
      requestId: '',
      appName: 'acme',
      quotaTotal: 2n ** 63n,
      quotaRemaining: 17n,
      status: agent.QuotaStatus.QUOTA_SUSPENDED,
    };
    await expect(client.getQuota()).resolves.toEqual({
      appName: 'acme',
      quotaTotal: 2n ** 63n,
      quotaRemaining: 17n,
      status: 'suspended',
    });
    expect(server.callsTo('GetQuota')[0]!.request.requestId).toMatch(UUID_V4);
    expectBearerOnEveryCall();
  });

  it('getIdentityDevices returns the registered keys byte-exact', async () => {
    const list = await client.getIdentityDevices(ALICE);
    expect(list.map((d) => d.deviceId)).toEqual(devices.map((d) => d.deviceId));
    list.forEach((d, i) => {
      expect(Buffer.from(d.pqPublicKey).equals(devices[i]!.pqPublicKey)).toBe(true);
      expect(Buffer.from(d.publicKey).equals(devices[i]!.publicKey)).toBe(true);
    });
    await expect(client.getIdentityDevices('nobody@example.com')).resolves.toEqual([]);
    expectBearerOnEveryCall();
  });

  it('sendPush goes through noxy.push.PushService with a decryptable envelope per device', async () => {
    const result = await client.sendPush(ALICE, { title: 'Build finished' }, { ttlSeconds: 120 });
    expect(result.delivered).toBe(3);
    const pushes = server.callsTo('PushNotification');
    expect(pushes).toHaveLength(3);
    expect(server.callsTo('RouteDecision')).toHaveLength(0);
    for (const call of pushes) {
      expect(call.request.ttlSeconds).toBe(120);
      expect('decisionId' in call.request).toBe(false);
      const device = devices.find((d) => d.deviceId === call.request.targetDeviceId)!;
      expect(await decrypt(call, device)).toEqual({ title: 'Build finished' });
    }
    expectBearerOnEveryCall();
  });

  it('maps relay delivery statuses per device', async () => {
    const statuses = [agent.DeliveryStatus.QUEUED, agent.DeliveryStatus.REJECTED, 42];
    server.routeStatus = (req) => statuses[devices.findIndex((d) => d.deviceId === req.targetDeviceId)]!;
    const sent = await client.sendDecision(ALICE, { title: 't' });
    expect(sent.deliveries.map((d) => d.status)).toEqual(['queued', 'rejected', 'error']);
    expect(sent.delivered).toBe(1);
  });
});
