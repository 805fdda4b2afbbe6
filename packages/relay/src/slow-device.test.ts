/**
 * A device that stops reading its gRPC stream must cost the relay a bounded amount of memory
 * (outbox.ts): its stream is reset at the bound, the re-send on subscribe is paged to what the
 * stream drains, and one device holds at most MAX_SESSIONS_PER_DEVICE sessions.
 */
import { fakeEnvelope, RawGrpcDevice, startTestRelay, type TestRelay } from '@noxy-approval/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_BUFFERED_BYTES, MAX_SESSIONS_PER_DEVICE, Outbox } from './outbox.js';

const MIB = 1 << 20;

let t: TestRelay;
const own: RawGrpcDevice[] = [];
beforeEach(async () => {
  t = await startTestRelay({ maxCiphertextBytes: MIB, rateLimits: { agentPerSecond: 1000 } });
});
afterEach(async () => {
  for (const d of own.splice(0)) d.close();
  await t.close();
});

/** A device stream on its own TCP connection, so stalling it stalls nothing else. */
async function ownStream(keys: { publicKey: Buffer; pqPublicKey: Buffer }): Promise<RawGrpcDevice> {
  const d = new RawGrpcDevice(t.relay.grpcUrl, t.app.appId, t.clock.now, { ownConnection: true });
  own.push(d);
  const r = await d.authenticate(keys);
  if (r.payload?.$case !== 'authenticate' || !r.payload.value.sessionId) throw new Error('authenticate failed');
  return d;
}

/** Polls `cond` every 10 ms for at most `ms` (real time, bounded). */
async function until(cond: () => boolean, ms = 5_000): Promise<boolean> {
  for (let waited = 0; waited < ms && !cond(); waited += 10) await new Promise((r) => setTimeout(r, 10));
  return cond();
}

async function routeMany(deviceId: string, n: number, bytes: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const out = await t.agent.route({ targetDeviceId: deviceId, ...fakeEnvelope(bytes) });
    ids.push(out.decisionId);
  }
  return ids;
}

describe('a device stream that does not read (issue 13)', () => {
  it('is reset past the bound; nothing is lost: the next subscribe re-sends everything, paged', async () => {
    const { dev, keys, deviceId } = await t.addDevice(
      { identityType: 'email', identityId: 'slow@example.com' },
      {
        subscribe: false,
      },
    );
    dev.close();
    const slow = await ownStream(keys);
    await slow.subscribe();
    slow.stream.pause();
    // 48 MiB routed to a stream that reads nothing: the bound, plus what the client's own
    // buffers take before it stops reading (16 messages), plus as much again.
    const n = Math.ceil((MAX_BUFFERED_BYTES * 3) / MIB);
    const ids = await routeMany(deviceId, n, MIB);
    expect(await until(() => t.relay.liveDevices() === 0)).toBe(true);
    expect(t.relay.deviceSessions(deviceId)).toBe(0);

    // A reading connection of the same device gets every open decision, more than the bound in
    // all: the re-send goes page by page as the stream drains, so it is never reset itself.
    const fresh = await ownStream(keys);
    await fresh.subscribe();
    for (const id of ids) await fresh.nextEvent(id, 10_000);
    expect(new Set(fresh.events('decisionEvent').map((e) => e.messageId))).toEqual(new Set(ids));
    expect(fresh.ended).toBe(false);
    expect(t.relay.liveDevices()).toBe(1);
  });

  it('gets the re-send on subscribe a page at a time as it reads, instead of all of it at once', async () => {
    const { dev, keys, deviceId } = await t.addDevice(
      { identityType: 'email', identityId: 'paged@example.com' },
      {
        subscribe: false,
      },
    );
    dev.close();
    // Queued while the device is away: 40 MiB, 2.5 times the per-stream bound.
    const ids = await routeMany(deviceId, 40, MIB);
    const slow = await ownStream(keys);
    await slow.subscribe();
    slow.stream.pause();
    // A short real wait: unpaged, the whole re-send is written at once and the stream is reset.
    await new Promise((r) => setTimeout(r, 300));
    expect(t.relay.liveDevices()).toBe(1);
    expect(slow.ended).toBe(false);
    slow.stream.resume();
    for (const id of ids) await slow.nextEvent(id, 10_000);
    expect(slow.events('decisionEvent').length).toBeGreaterThanOrEqual(ids.length);
    expect(slow.ended).toBe(false);
  });

  it(`holds at most ${MAX_SESSIONS_PER_DEVICE} sessions of one device: one more closes the oldest`, async () => {
    const { dev, keys, deviceId } = await t.addDevice(
      { identityType: 'email', identityId: 'many@example.com' },
      {
        subscribe: false,
      },
    );
    dev.close();
    const streams: RawGrpcDevice[] = [];
    for (let i = 0; i < MAX_SESSIONS_PER_DEVICE; i++) streams.push(await ownStream(keys));
    for (const s of streams) await s.subscribe();
    expect(t.relay.deviceSessions(deviceId)).toBe(MAX_SESSIONS_PER_DEVICE);
    const newest = await ownStream(keys);
    expect(t.relay.deviceSessions(deviceId)).toBe(MAX_SESSIONS_PER_DEVICE);
    expect(await until(() => streams[0]!.ended)).toBe(true);
    for (const s of streams.slice(1)) expect(s.ended).toBe(false);
    // The newest session works; the evicted one is no longer subscribed.
    expect((await newest.subscribe()).payload?.$case).toBe('subscribeDecisions');
    const [id] = await routeMany(deviceId, 1, 64);
    await newest.nextEvent(id);
    for (const s of streams.slice(1)) await s.nextEvent(id);
    expect(streams[0]!.events('decisionEvent').map((e) => e.messageId)).not.toContain(id);
  });
});

describe('revocation with many open decisions', () => {
  it('cancels every unseen copy, page by page', async () => {
    const { dev, keys, deviceId } = await t.addDevice(
      { identityType: 'email', identityId: 'gone@example.com' },
      {
        subscribe: false,
      },
    );
    dev.close();
    const ids = await routeMany(deviceId, 21, 64);
    const again = await ownStream(keys);
    const r = await again.request({ $case: 'revokeDevice', value: { walletAddress: '', signature: Buffer.alloc(0) } });
    expect(r.payload?.$case).toBe('revokeDevice');
    const appId = t.app.appId;
    const statuses = ids.map(
      (decisionId) =>
        t.relay.store.decisions.deliveriesOf({ appId, decisionId, identityId: 'gone@example.com' })[0]?.status,
    );
    expect(statuses).toEqual(ids.map(() => 'CANCELLED'));
  });
});

describe('Outbox', () => {
  it('refuses bytes past the limit and runs waiters once the backlog falls under the low-water mark', () => {
    const box = new Outbox(100, 40);
    expect(box.reserve(60)).toBe(true);
    expect(box.reserve(41)).toBe(false);
    expect(box.pending).toBe(60);
    let ran = 0;
    box.whenLow(() => ran++);
    expect(ran).toBe(0);
    box.release(20);
    expect(ran).toBe(0);
    box.release(1);
    expect(ran).toBe(1);
    box.whenLow(() => ran++);
    expect(ran).toBe(2);
    box.release(1000);
    expect(box.pending).toBe(0);
  });
});
