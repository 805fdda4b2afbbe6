import { randomUUID } from 'node:crypto';
import { agent, type device } from '@noxy-approval/proto';
import fc from 'fast-check';
import { ManualClock, syntheticDeviceKeys } from '@noxy-approval/testing';
import { describe, expect, it } from 'vitest';
import { createApp } from './admin.js';
import { DecisionEngine } from './engine.js';
import { LiveRegistry } from './live-registry.js';
import { silentLogger } from './logger.js';
import { RelayStore, type DeviceRecord } from './store/index.js';

function setup() {
  const clock = new ManualClock({ start: Date.UTC(2026, 0, 1), autoAdvance: false });
  const store = RelayStore.open(':memory:');
  const live = new LiveRegistry();
  const engine = new DecisionEngine({
    store,
    live,
    now: clock.now,
    logger: silentLogger,
    defaultTtlSeconds: 600,
    maxTtlSeconds: 3600,
    maxDrain: 100,
  });
  const created = createApp(store, clock.now(), { name: 'prop' });
  const app = store.apps.get(created.appId)!;
  const addDevice = (identityId: string): DeviceRecord => {
    const rec: DeviceRecord = {
      deviceId: randomUUID(),
      appId: app.appId,
      identityType: 'user_id',
      identityId,
      ...syntheticDeviceKeys(),
      deviceType: 'desktop',
      registrationHash: Buffer.alloc(32),
      registeredVia: 'secret',
      registeredAt: clock.now(),
      rotatedAt: undefined,
      revokedAt: undefined,
    };
    store.devices.insert(rec);
    return rec;
  };
  const envelope = { kyberCt: Buffer.alloc(1088), nonce: Buffer.alloc(12), ciphertext: Buffer.alloc(32) };
  return {
    store,
    live,
    engine,
    app,
    addDevice,
    envelope,
    advance: (ms: number) => clock.advance(ms),
  };
}

type Step =
  | { kind: 'outcome'; device: number; value: 'APPROVED' | 'REJECTED' }
  | { kind: 'ack'; device: number }
  | { kind: 'poll' }
  | { kind: 'advance'; ms: number }
  | { kind: 'sweep' };

describe('DecisionEngine (property)', () => {
  it(
    'the first answer before expiry is the final outcome; ' + 'terminal outcomes never change (500 random schedules)',
    () => {
      const step: fc.Arbitrary<Step> = fc.oneof(
        fc.record({
          kind: fc.constant('outcome' as const),
          device: fc.nat(2),
          value: fc.constantFrom('APPROVED' as const, 'REJECTED' as const),
        }),
        fc.record({ kind: fc.constant('ack' as const), device: fc.nat(2) }),
        fc.constant({ kind: 'poll' as const }),
        fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 200_000 }) }),
        fc.constant({ kind: 'sweep' as const }),
      );
      fc.assert(
        fc.property(fc.array(step, { maxLength: 30 }), (steps) => {
          const s = setup();
          const devices = [s.addDevice('who'), s.addDevice('who'), s.addDevice('who')];
          const sinks = devices.map(() => [] as device.DeviceResponse[]);
          for (const [i, d] of devices.entries()) s.live.add(d.deviceId, { send: (r) => sinks[i]!.push(r) });
          const decisionId = randomUUID();
          for (const d of devices)
            s.engine.route(s.app, {
              requestId: randomUUID(),
              decisionId,
              targetDeviceId: d.deviceId,
              ttlSeconds: 600,
              ...s.envelope,
            });
          let elapsed = 0;
          let expected: 'APPROVED' | 'REJECTED' | 'EXPIRED' | undefined;
          let seen: string | undefined;
          for (const st of steps) {
            if (st.kind === 'advance') {
              s.advance(st.ms);
              elapsed += st.ms;
            } else if (st.kind === 'sweep') s.engine.sweepExpired();
            else if (st.kind === 'ack') expect(s.engine.ack(devices[st.device]!, decisionId, 0n)).toBe(true);
            else if (st.kind === 'outcome') {
              const r = s.engine.decide(devices[st.device]!, decisionId, st.value, 0n);
              if (expected === undefined && elapsed >= 600_000) expected = 'EXPIRED';
              if (expected === undefined) {
                expected = st.value;
                expect(r).toEqual({ kind: 'decided', outcome: st.value });
              } else if (expected === 'EXPIRED') expect(r).toEqual({ kind: 'expired' });
              else expect(r).toEqual({ kind: 'final', outcome: expected });
            }
            const q = s.engine.outcome(s.app.appId, decisionId, 'who');
            if (!q.found) throw new Error('decision lost');
            if (expected === undefined && elapsed >= 600_000) expected = 'EXPIRED';
            if (q.pending) expect(expected).toBeUndefined();
            else {
              expect(q.outcome).toBe(expected);
              seen ??= q.outcome;
              expect(q.outcome).toBe(seen);
            }
          }
          // Every device gets at most one decision_routed, and the decider none.
          for (const events of sinks)
            expect(events.filter((r) => r.payload?.$case === 'decisionRouted').length).toBeLessThanOrEqual(1);
          s.store.close();
        }),
        { numRuns: 500 },
      );
    },
  );

  it('counts quota once per decision, not per device copy', () => {
    const s = setup();
    const [a, b] = [s.addDevice('q'), s.addDevice('q')];
    const decisionId = randomUUID();
    expect(
      s.engine.route(s.app, { requestId: 'r1', decisionId, targetDeviceId: a.deviceId, ttlSeconds: 0, ...s.envelope })
        .status,
    ).toBe(agent.DeliveryStatus.QUEUED);
    s.engine.route(s.app, { requestId: 'r2', decisionId, targetDeviceId: b.deviceId, ttlSeconds: 0, ...s.envelope });
    expect(s.store.apps.quotaUsed(s.app.appId, Date.UTC(2026, 0, 1))).toBe(1);
    s.store.close();
  });
});
