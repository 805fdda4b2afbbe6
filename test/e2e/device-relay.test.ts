/**
 * The device (`@noxy-approval/device`, Node and browser flavours) end to end against the REAL
 * local relay (`@noxy-approval/relay`) and the REAL agent client (`createNoxyClient` from core):
 * loopback only, ports chosen by the OS.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildApprovalPayload,
  createNoxyClient,
  loadKemBackend,
  type KemBackend,
  type NoxyClient,
} from '@noxy-approval/core';
import {
  autoDecide,
  createBrowserNoxyDevice,
  createMemoryKeyStore,
  createNoxyDevice,
  type DecideResult,
  type KeyStore,
  type NoxyDevice,
  type NoxyDeviceNodeOptions,
  type ReceivedDecision,
  renderDecision,
  type WebSocketConstructor,
} from '@noxy-approval/device';
import { silentLogger, startRelay, type Relay } from '@noxy-approval/relay';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

let kem: KemBackend;
beforeAll(async () => {
  kem = await loadKemBackend('mlkem');
});

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const IDENTITY = 'alice@example.com';

async function relayAndApp(options: Partial<Parameters<typeof startRelay>[0]> = {}) {
  const relay = await startRelay({ dataDir: ':memory:', logger: silentLogger, ...options });
  cleanup.push(() => relay.close());
  const app = relay.createApp({ name: 'device-e2e' });
  const agent = createNoxyClient({ endpoint: relay.grpcUrl, authToken: app.appToken, kem });
  cleanup.push(() => agent.close());
  return { relay, app, agent };
}

async function device(relay: Relay, o: Partial<NoxyDeviceNodeOptions> & { appId: string }) {
  const transport = o.transport ?? 'grpc';
  const d = await createNoxyDevice({
    relayUrl: transport === 'websocket' ? relay.httpUrl : relay.grpcUrl,
    identity: IDENTITY,
    kem,
    ...o,
  });
  cleanup.push(() => d.close());
  return d;
}

/** Resolves with the next event `name` of a device (bounded by the test timeout). */
function next<T>(
  d: NoxyDevice,
  name: 'decision' | 'routed' | 'error',
  filter: (v: T) => boolean = () => true,
): Promise<T> {
  return new Promise((resolve) => {
    const off = d.on(name, ((v: T) => {
      if (!filter(v)) return;
      off();
      resolve(v);
    }) as never);
  });
}

function approvalPayload(
  decisionId: string,
  args: Record<string, unknown> = { to: '0x000000000000000000000000000000000000dEaD', amountWei: '1' },
) {
  const now = Date.now();
  return buildApprovalPayload({
    decisionId,
    tool: 'transfer_funds',
    args,
    title: 'Transfer 1 wei',
    summary: 'Burn it',
    requestedAt: now,
    expiresAt: now + 600_000,
    agent: { name: 'e2e', host: 'localhost' },
  });
}

async function send(agent: NoxyClient, payload: ReturnType<typeof approvalPayload>) {
  return agent.sendDecision(IDENTITY, payload, { decisionId: payload.decision_id });
}

describe.each(['grpc', 'websocket'] as const)('device over %s against the real relay', (transport) => {
  it('registers with the app secret, decrypts and acks a decision, and the agent sees the answer', async () => {
    const { relay, app, agent } = await relayAndApp();
    const d = await device(relay, { appId: app.appId, signingSecret: app.signingSecret, transport });
    await d.connect();
    expect(d.deviceId).toBeTruthy();
    const devices = await agent.getIdentityDevices(IDENTITY);
    expect(devices.map((x) => x.deviceId)).toEqual([d.deviceId]);

    const payload = approvalPayload(randomUUID());
    const got = next<ReceivedDecision>(d, 'decision');
    const sent = await send(agent, payload);
    expect(sent.deliveries.map((x) => x.status)).toEqual(['delivered']);
    const decision = await got;
    expect(decision.decisionId).toBe(payload.decision_id);
    expect(decision.payload).toEqual(payload);
    const lines = renderDecision(decision.payload);
    expect(lines).toContain('  Tool:        "transfer_funds"');
    expect(lines.some((l) => l.startsWith(`  Fingerprint: ${payload.action_hash.slice(0, 4)}`))).toBe(true);

    // The relay recorded this device's delivery ack (relay.store is the relay's test view).
    await expect
      .poll(() => relay.store.decisions.getDelivery(app.appId, payload.decision_id, d.deviceId!)?.ackedAt, {
        timeout: 5_000,
      })
      .toBeGreaterThan(0);
    const result = await d.decide(decision.decisionId, 'approve');
    expect(result).toEqual({ decisionId: payload.decision_id, outcome: 'approve', requested: 'approve' });
    const outcome = await agent.waitForDecisionOutcome({
      decisionId: payload.decision_id,
      identity: IDENTITY,
      maxWaitMs: 5_000,
    });
    expect(outcome.outcome).toBe('approved');
  });

  it('registers with a one-time pairing code; the used code cannot register another key pair', async () => {
    const { relay, app } = await relayAndApp();
    const pairing = relay.createPairing({ appId: app.appId, identity: IDENTITY });
    const keyStore = createMemoryKeyStore();
    const d = await device(relay, { appId: app.appId, pairingCode: pairing.code, keyStore, transport });
    await d.connect();
    expect(d.deviceId).toBeTruthy();
    d.close();
    // Same keys again, no code: the relay knows the device, no registration needed.
    const again = await device(relay, { appId: app.appId, keyStore, transport });
    await again.connect();
    expect(again.deviceId).toBe(d.deviceId);
    // New keys with the spent code: refused, fatally.
    const other = await device(relay, { appId: app.appId, pairingCode: pairing.code, transport });
    await expect(other.connect()).rejects.toMatchObject({ relayCode: 'INVALID_SIGNATURE' });
    expect(other.state).toBe('closed');
  });
});

describe('browser entry (WebCrypto AES-GCM, WebSocket constructor injected as a browser would have it)', () => {
  it('registers, decrypts and answers', async () => {
    const { relay, app, agent } = await relayAndApp();
    const d = await createBrowserNoxyDevice({
      relayUrl: relay.httpUrl,
      appId: app.appId,
      identity: { type: 'email', id: IDENTITY },
      signingSecret: app.signingSecret,
      kem,
      WebSocket: WebSocket as unknown as WebSocketConstructor,
    });
    cleanup.push(() => d.close());
    await d.connect();
    const payload = approvalPayload(randomUUID());
    const got = next<ReceivedDecision>(d, 'decision');
    await send(agent, payload);
    expect((await got).payload).toEqual(payload);
    await expect(d.decide(payload.decision_id, 'reject')).resolves.toMatchObject({ outcome: 'reject' });
    expect(
      (await agent.waitForDecisionOutcome({ decisionId: payload.decision_id, identity: IDENTITY, maxWaitMs: 5_000 }))
        .outcome,
    ).toBe('rejected');
  });
});

describe('several devices of one identity (gRPC + WebSocket)', () => {
  it('first answer wins; the other device gets a soft-cancel; a late answer gets the first outcome', async () => {
    const { relay, app, agent } = await relayAndApp();
    const a = await device(relay, { appId: app.appId, signingSecret: app.signingSecret, transport: 'grpc' });
    const b = await device(relay, { appId: app.appId, signingSecret: app.signingSecret, transport: 'websocket' });
    await Promise.all([a.connect(), b.connect()]);
    expect(a.deviceId).not.toBe(b.deviceId);

    const payload = approvalPayload(randomUUID());
    const gotA = next<ReceivedDecision>(a, 'decision');
    const gotB = next<ReceivedDecision>(b, 'decision');
    const sent = await send(agent, payload);
    expect(sent.delivered).toBe(2);
    const [da, db] = await Promise.all([gotA, gotB]);
    expect(da.payload).toEqual(db.payload);

    const routed = next<{ decisionId: string }>(b, 'routed');
    await expect(a.decide(da.decisionId, 'reject')).resolves.toMatchObject({ outcome: 'reject' });
    expect((await routed).decisionId).toBe(payload.decision_id);
    expect(b.pendingDecisions()).toHaveLength(0);
    const late: DecideResult = await b.decide(db.decisionId, 'approve');
    expect(late).toEqual({ decisionId: payload.decision_id, outcome: 'reject', requested: 'approve' });
    const outcome = await agent.waitForDecisionOutcome({
      decisionId: payload.decision_id,
      identity: IDENTITY,
      maxWaitMs: 5_000,
    });
    expect(outcome.outcome).toBe('rejected');
  });
});

describe('autoDecide', () => {
  it('answers by itself after the delay, and not a decision soft-cancelled meanwhile', async () => {
    const { relay, app, agent } = await relayAndApp();
    const a = await device(relay, { appId: app.appId, signingSecret: app.signingSecret });
    const b = await device(relay, { appId: app.appId, signingSecret: app.signingSecret, transport: 'websocket' });
    await Promise.all([a.connect(), b.connect()]);
    const decidedByA: string[] = [];
    const decidedByB: string[] = [];
    cleanup.push(autoDecide(a, 'reject', { onDecided: (r) => decidedByA.push(r.outcome) }));
    cleanup.push(autoDecide(b, 'approve', { delayMs: 60_000, onDecided: (r) => decidedByB.push(r.outcome) }));
    const routed = next<{ decisionId: string }>(b, 'routed');
    const payload = approvalPayload(randomUUID());
    await send(agent, payload);
    const outcome = await agent.waitForDecisionOutcome({
      decisionId: payload.decision_id,
      identity: IDENTITY,
      maxWaitMs: 5_000,
    });
    expect(outcome.outcome).toBe('rejected');
    expect((await routed).decisionId).toBe(payload.decision_id);
    expect(decidedByA).toEqual(['reject']);
    expect(decidedByB).toEqual([]);
  });
});

describe('expiry against the real relay clock', () => {
  it('an expired decision is soft-cancelled on the device and can no longer be answered', async () => {
    let clock = Date.now();
    const { relay, app, agent } = await relayAndApp({ now: () => clock });
    const d = await device(relay, { appId: app.appId, signingSecret: app.signingSecret, transport: 'websocket' });
    await d.connect();
    const payload = approvalPayload(randomUUID());
    const got = next<ReceivedDecision>(d, 'decision');
    await agent.sendDecision(IDENTITY, payload, { decisionId: payload.decision_id, ttlSeconds: 60 });
    await got;
    const routed = next<{ decisionId: string }>(d, 'routed');
    clock += 61_000;
    expect(relay.sweepExpired()).toBe(1);
    expect((await routed).decisionId).toBe(payload.decision_id);
    await expect(d.decide(payload.decision_id, 'approve')).rejects.toMatchObject({
      relayCode: 'INVALID_REQUEST',
      message: expect.stringMatching(/expired/),
    });
  });
});

describe('reconnect and key management against the real relay', () => {
  it('reconnects after a relay restart and drains the decisions queued while it was away', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'noxy-relay-e2e-'));
    cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
    const first = await startRelay({ dataDir, logger: silentLogger });
    const { grpcPort, httpPort } = first;
    const app = first.createApp({ name: 'restart' });
    const keyStore: KeyStore = createMemoryKeyStore();
    // A slow first reconnect step leaves time to queue a decision while the device is away.
    const d = await device(first, {
      appId: app.appId,
      signingSecret: app.signingSecret,
      keyStore,
      reconnect: { initialDelayMs: 3_000 },
    });
    await d.connect();
    const deviceId = d.deviceId;
    const waiting = new Promise<void>((resolve) => d.on('state', (s) => s.state === 'waiting' && resolve()));
    await first.close();
    await waiting;

    const second = await startRelay({ dataDir, logger: silentLogger, grpcPort, httpPort });
    cleanup.push(() => second.close());
    const agent = createNoxyClient({ endpoint: second.grpcUrl, authToken: app.appToken, kem });
    cleanup.push(() => agent.close());
    const payloads = [approvalPayload(randomUUID()), approvalPayload(randomUUID(), { n: 2 })];
    const received: string[] = [];
    const both = new Promise<void>((resolve) =>
      d.on('decision', (x) => {
        received.push(x.decisionId);
        if (received.length === 2) resolve();
      }),
    );
    for (const p of payloads) expect((await send(agent, p)).deliveries.map((x) => x.status)).toEqual(['queued']);
    await both;
    expect(received.sort()).toEqual(payloads.map((p) => p.decision_id).sort());
    expect(d.deviceId).toBe(deviceId);
    await expect(d.decide(payloads[0]!.decision_id, 'approve')).resolves.toMatchObject({ outcome: 'approve' });
  });

  it('rotateKeys(): the agent encrypts to the new key, the device still decrypts; revoke() removes it', async () => {
    const { relay, app, agent } = await relayAndApp();
    const keyStore = createMemoryKeyStore();
    const d = await device(relay, { appId: app.appId, signingSecret: app.signingSecret, keyStore });
    await d.connect();
    const before = d.publicKeys.pqPublicKey;
    await expect(d.rotateKeys()).resolves.toMatchObject({ rotatedAt: expect.any(Number) });
    const [listed] = await agent.getIdentityDevices(IDENTITY);
    expect(listed?.deviceId).toBe(d.deviceId);
    expect(Buffer.from(listed!.pqPublicKey).equals(Buffer.from(d.publicKeys.pqPublicKey))).toBe(true);
    expect(Buffer.from(before).equals(Buffer.from(d.publicKeys.pqPublicKey))).toBe(false);

    const payload = approvalPayload(randomUUID());
    const got = next<ReceivedDecision>(d, 'decision');
    await send(agent, payload);
    expect((await got).decisionId).toBe(payload.decision_id);

    // A fresh process with the stored (rotated) keys authenticates without registering.
    const reloaded = await device(relay, { appId: app.appId, keyStore });
    await reloaded.connect();
    expect(reloaded.deviceId).toBe(d.deviceId);
    reloaded.close();

    await expect(d.revoke()).resolves.toEqual({ revokedDeviceId: d.deviceId });
    expect(d.state).toBe('closed');
    expect(keyStore.documents.size).toBe(0);
    expect(await agent.getIdentityDevices(IDENTITY)).toEqual([]);
  });
});
