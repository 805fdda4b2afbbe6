import { randomUUID } from 'node:crypto';
import { agent, device } from '@noxy-approval/proto';
import { startTestRelay, type TestRelay } from '@noxy-approval/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const S = agent.DeliveryStatus;
const O = agent.DecisionOutcome;
const errorOf = (r: device.DeviceResponse) => (r.payload?.$case === 'error' ? r.payload.value : undefined);
const tick = () => new Promise((resolve) => setTimeout(resolve, 50));

let t: TestRelay;
beforeEach(async () => {
  t = await startTestRelay();
});
afterEach(async () => {
  await t.close();
});

describe('delivery', () => {
  it('delivers live with message_id = decision id and the envelope unchanged; status DELIVERED', async () => {
    const { dev, deviceId } = await t.addDevice({ identityType: 'email', identityId: 'a@example.com' });
    const decisionId = randomUUID();
    const event = dev.nextEvent(decisionId);
    const envelope = {
      kyberCt: Buffer.alloc(1088, 7),
      nonce: Buffer.alloc(12, 8),
      ciphertext: Buffer.from('opaque ciphertext + tag'),
    };
    const routed = await t.agent.route({ targetDeviceId: deviceId, decisionId, ...envelope });
    expect(routed).toMatchObject({ status: S.DELIVERED, decisionId });
    const e = await event;
    expect(e.messageId).toBe(decisionId);
    expect(e.payload).toEqual({ $case: 'decisionEvent', value: envelope });
    const audit = t.relay.store.decisions.auditOf(t.app.appId, decisionId).map((a) => a.event);
    expect(audit).toEqual(['decision.created', 'delivery.delivered', 'decision.delivered']);
  });

  it('queues for an offline device and drains on subscribe (store and forward)', async () => {
    const { dev, deviceId } = await t.addDevice(
      { identityType: 'user_id', identityId: 'offline' },
      { subscribe: false },
    );
    const ids = [randomUUID(), randomUUID()];
    for (const decisionId of ids)
      expect(await t.agent.route({ targetDeviceId: deviceId, decisionId })).toMatchObject({
        status: S.QUEUED,
        decisionId,
      });
    await tick();
    expect(dev.events('decisionEvent')).toHaveLength(0);
    const sub = await dev.subscribe();
    expect(sub.payload).toEqual({ $case: 'subscribeDecisions', value: { subscribed: true } });
    await dev.nextEvent(ids[1]);
    expect(dev.events('decisionEvent').map((e) => e.messageId)).toEqual(ids);
    // The subscribe answer comes before the drained events.
    const order = dev.received.map((r) => r.payload?.$case);
    expect(order.indexOf('subscribeDecisions')).toBeLessThan(order.indexOf('decisionEvent'));
    expect(t.relay.store.decisions.getDelivery(t.app.appId, ids[0]!, deviceId)?.status).toBe('DELIVERED');
  });

  it(
    'redelivers a still-open decision when the device reconnects, ' + 'and answers NO_DEVICES for unknown targets',
    async () => {
      const { dev, keys, deviceId } = await t.addDevice({ identityType: 'user_id', identityId: 'recon' });
      const decisionId = randomUUID();
      const first = dev.nextEvent(decisionId);
      await t.agent.route({ targetDeviceId: deviceId, decisionId });
      await first;
      dev.close();
      const back = t.device();
      await back.authenticate(keys);
      await back.subscribe();
      expect((await back.nextEvent(decisionId)).messageId).toBe(decisionId);
      expect(await t.agent.route({ targetDeviceId: 'no-such-device' })).toMatchObject({
        status: S.NO_DEVICES,
        decisionId: '',
      });
    },
  );
});

describe('outcomes', () => {
  it(
    'first answer wins for the identity; other devices get decision_routed; ' + 'a later answer changes nothing',
    async () => {
      const id = { identityType: 'email' as const, identityId: 'team@example.com' };
      const a = await t.addDevice(id);
      const b = await t.addDevice(id);
      const c = await t.addDevice(id, { subscribe: false }); // offline, never sees the decision
      const decisionId = randomUUID();
      for (const d of [a, b, c]) await t.agent.route({ targetDeviceId: d.deviceId, decisionId });
      await a.dev.nextEvent(decisionId);
      await b.dev.nextEvent(decisionId);

      expect(await t.agent.outcome(decisionId, id.identityId)).toMatchObject({
        pending: true,
        outcome: O.DECISION_OUTCOME_PENDING,
      });
      const win = await b.dev.outcome(decisionId, 'REJECT');
      expect(win.payload).toEqual({
        $case: 'decisionOutcome',
        value: { decisionId, outcome: device.DecisionOutcomeValue.REJECT },
      });
      const routed = await a.dev.waitFor((r) => r.payload?.$case === 'decisionRouted');
      expect(routed).toMatchObject({ messageId: decisionId, payload: { value: { decisionId } } });
      expect(b.dev.events('decisionRouted')).toHaveLength(0);

      const late = await a.dev.outcome(decisionId, 'APPROVE');
      expect(late.payload).toEqual({
        $case: 'decisionOutcome',
        value: { decisionId, outcome: device.DecisionOutcomeValue.REJECT },
      });
      expect(await t.agent.outcome(decisionId, id.identityId)).toMatchObject({
        pending: false,
        outcome: O.DECISION_OUTCOME_REJECTED,
      });
      // The offline device never saw it: its copy is cancelled, nothing is sent on subscribe.
      await c.dev.subscribe();
      await tick();
      expect(c.dev.events('decisionEvent')).toHaveLength(0);
      expect(t.relay.store.decisions.getDelivery(t.app.appId, decisionId, c.deviceId)?.status).toBe('CANCELLED');
      // Routing the closed decision again is refused.
      expect(await t.agent.route({ targetDeviceId: c.deviceId, decisionId })).toMatchObject({
        status: S.REJECTED,
        decisionId,
      });
    },
  );

  it('tells a device that saw a decision but was offline when it closed, once, on its next subscribe', async () => {
    const id = { identityType: 'user_id' as const, identityId: 'two-phones' };
    const a = await t.addDevice(id);
    const b = await t.addDevice(id);
    const decisionId = randomUUID();
    for (const d of [a, b]) await t.agent.route({ targetDeviceId: d.deviceId, decisionId });
    await b.dev.nextEvent(decisionId);
    b.dev.close();
    await tick();
    await a.dev.outcome(decisionId, 'APPROVE');
    const back = t.device();
    await back.authenticate(b.keys);
    await back.subscribe();
    expect((await back.waitFor((r) => r.payload?.$case === 'decisionRouted')).messageId).toBe(decisionId);
    const again = t.device();
    await again.authenticate(b.keys);
    await again.subscribe();
    await tick();
    expect(
      again.received.filter((r) => r.payload?.$case === 'decisionRouted' || r.payload?.$case === 'decisionEvent'),
    ).toHaveLength(0);
  });

  it('accepts ack before the outcome and after it (docs/protocol.md §10.1) without changing the outcome', async () => {
    const { dev, deviceId } = await t.addDevice({ identityType: 'user_id', identityId: 'acker' });
    const before = randomUUID();
    const after = randomUUID();
    for (const decisionId of [before, after]) {
      const event = dev.nextEvent(decisionId);
      await t.agent.route({ targetDeviceId: deviceId, decisionId });
      await event;
    }
    expect((await dev.ack(before)).payload).toEqual({ $case: 'decisionAck', value: { decisionId: before } });
    expect(
      t.relay.store.decisions.getDecision({ appId: t.app.appId, decisionId: before, identityId: 'acker' })?.status,
    ).toBe('ACKNOWLEDGED');
    await dev.outcome(before, 'APPROVE');

    await dev.outcome(after, 'REJECT'); // the official SDK's order: outcome first
    expect((await dev.ack(after)).payload).toEqual({ $case: 'decisionAck', value: { decisionId: after } });
    expect(await t.agent.outcome(before, 'acker')).toMatchObject({
      pending: false,
      outcome: O.DECISION_OUTCOME_APPROVED,
    });
    expect(await t.agent.outcome(after, 'acker')).toMatchObject({
      pending: false,
      outcome: O.DECISION_OUTCOME_REJECTED,
    });
    expect(
      t.relay.store.decisions.getDecision({ appId: t.app.appId, decisionId: after, identityId: 'acker' })?.status,
    ).toBe('REJECTED');
    expect(t.relay.store.decisions.auditOf(t.app.appId, after).map((e) => e.event)).toEqual([
      'decision.created',
      'delivery.delivered',
      'decision.delivered',
      'decision.rejected',
      'delivery.acknowledged',
    ]);
    expect(errorOf(await dev.ack('unknown-decision'))?.code).toBe(device.ErrorCode.INVALID_REQUEST);
  });

  it('treats a missing outcome field as APPROVE (proto3 zero value, §10.4) and refuses unknown values', async () => {
    const { dev, deviceId } = await t.addDevice({ identityType: 'user_id', identityId: 'zero' });
    const decisionId = randomUUID();
    await t.agent.route({ targetDeviceId: deviceId, decisionId });
    const bad = await dev.request({
      $case: 'decisionOutcome',
      value: { decisionId, outcome: 7 as device.DecisionOutcomeValue, receivedAt: 0n },
    });
    expect(errorOf(bad)?.code).toBe(device.ErrorCode.INVALID_REQUEST);
    const r = await dev.request({
      $case: 'decisionOutcome',
      value: device.DecisionOutcome.fromPartial({ decisionId }),
    });
    expect(r.payload).toMatchObject({
      $case: 'decisionOutcome',
      value: { outcome: device.DecisionOutcomeValue.APPROVE },
    });
    expect(await t.agent.outcome(decisionId, 'zero')).toMatchObject({ outcome: O.DECISION_OUTCOME_APPROVED });
  });

  it('does not let a device answer a decision it was not sent', async () => {
    const a = await t.addDevice({ identityType: 'user_id', identityId: 'target' });
    const stranger = await t.addDevice({ identityType: 'user_id', identityId: 'stranger' });
    const decisionId = randomUUID();
    await t.agent.route({ targetDeviceId: a.deviceId, decisionId });
    expect(errorOf(await stranger.dev.outcome(decisionId, 'APPROVE'))?.code).toBe(device.ErrorCode.INVALID_REQUEST);
    expect(await t.agent.outcome(decisionId, 'target')).toMatchObject({ pending: true });
  });
});

describe('expiry (injected clock)', () => {
  it('ttl 0 means 600 s; EXPIRED on read at the deadline, final, and later answers are refused', async () => {
    const { dev, deviceId } = await t.addDevice({ identityType: 'user_id', identityId: 'slow' });
    const decisionId = randomUUID();
    await t.agent.route({ targetDeviceId: deviceId, decisionId, ttlSeconds: 0 });
    t.clock.advance(599_999);
    expect(await t.agent.outcome(decisionId, 'slow')).toMatchObject({ pending: true });
    t.clock.advance(1);
    expect(await t.agent.outcome(decisionId, 'slow')).toMatchObject({
      pending: false,
      outcome: O.DECISION_OUTCOME_EXPIRED,
    });
    // The subscribed device that saw it is soft-cancelled.
    expect((await dev.waitFor((r) => r.payload?.$case === 'decisionRouted')).messageId).toBe(decisionId);
    expect(errorOf(await dev.outcome(decisionId, 'APPROVE'))).toMatchObject({
      code: device.ErrorCode.INVALID_REQUEST,
      message: 'decision expired',
    });
    expect(await t.agent.outcome(decisionId, 'slow')).toMatchObject({ outcome: O.DECISION_OUTCOME_EXPIRED });
  });

  it('the sweep expires open decisions and cancels queued copies', async () => {
    const { deviceId } = await t.addDevice({ identityType: 'user_id', identityId: 'sweep' }, { subscribe: false });
    const decisionId = randomUUID();
    await t.agent.route({ targetDeviceId: deviceId, decisionId, ttlSeconds: 30 });
    expect(t.relay.sweepExpired()).toBe(0);
    t.clock.advance(30_000);
    expect(t.relay.sweepExpired()).toBe(1);
    expect(t.relay.store.decisions.getOutcome({ appId: t.app.appId, decisionId, identityId: 'sweep' })?.outcome).toBe(
      'EXPIRED',
    );
    expect(t.relay.store.decisions.getDelivery(t.app.appId, decisionId, deviceId)?.status).toBe('CANCELLED');
    expect(t.relay.store.decisions.auditOf(t.app.appId, decisionId).map((e) => e.event)).toContain('decision.expired');
  });

  it('an outcome before the deadline wins over expiry', async () => {
    const { dev, deviceId } = await t.addDevice({ identityType: 'user_id', identityId: 'quick' });
    const decisionId = randomUUID();
    await t.agent.route({ targetDeviceId: deviceId, decisionId, ttlSeconds: 10 });
    t.clock.advance(9_999);
    await dev.outcome(decisionId, 'APPROVE');
    t.clock.advance(60_000);
    t.relay.sweepExpired();
    expect(await t.agent.outcome(decisionId, 'quick')).toMatchObject({
      pending: false,
      outcome: O.DECISION_OUTCOME_APPROVED,
    });
  });
});
