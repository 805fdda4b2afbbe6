import { randomBytes, randomUUID } from 'node:crypto';
import { agent } from '@noxy-approval/proto';
import { startTestRelay, type TestRelay, syntheticDeviceKeys, registrationMac } from '@noxy-approval/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

// biome-ignore lint/suspicious/noExplicitAny: frames are read field by field in assertions
type Frame = Record<string, any>;

/** A raw WebSocket device speaking the browser SDK's JSON. */
class WsDevice {
  readonly frames: Frame[] = [];
  readonly ws: WebSocket;
  sessionId: string | undefined;
  deviceId: string | undefined;
  #waiters: Array<{ match: (f: Frame) => boolean; resolve: (f: Frame) => void }> = [];

  constructor(
    url: string,
    readonly appId: string,
    readonly now: () => number,
  ) {
    this.ws = new WebSocket(url);
    this.ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Frame;
      this.frames.push(frame);
      const i = this.#waiters.findIndex((w) => w.match(frame));
      if (i >= 0) this.#waiters.splice(i, 1)[0]!.resolve(frame);
    });
  }

  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
  }

  waitFor(match: (f: Frame) => boolean, timeoutMs = 5000): Promise<Frame> {
    const seen = this.frames.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no matching frame')), timeoutMs);
      this.#waiters.push({
        match,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
      });
    });
  }

  sendRaw(text: string | Buffer, binary = false): void {
    this.ws.send(text, { binary });
  }

  request(payload: Frame, envelope: Frame = {}): Promise<Frame> {
    const requestId = randomUUID();
    const frame = {
      requestId,
      appId: this.appId,
      sessionId: this.sessionId,
      deviceId: this.deviceId,
      timestamp: this.now(),
      nonce: randomBytes(12).toString('base64'),
      payload,
      ...envelope,
    };
    const answer = this.waitFor((f) => f.requestId === requestId);
    // Binary UTF-8 frames, as the browser SDK sends them.
    this.sendRaw(Buffer.from(JSON.stringify(frame)), true);
    return answer;
  }

  close(): void {
    this.ws.close();
  }
}

let t: TestRelay;
const sockets: WsDevice[] = [];
beforeEach(async () => {
  t = await startTestRelay();
});
afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  await t.close();
});

async function wsDevice(): Promise<WsDevice> {
  const d = new WsDevice(t.relay.wsUrl, t.app.appId, t.clock.now);
  sockets.push(d);
  await d.open();
  return d;
}

const b64 = (b: Buffer) => b.toString('base64');

describe('WebSocket JSON Client API', () => {
  it('authenticates, registers, subscribes, receives, acks (browser messageId shape) and answers', async () => {
    const d = await wsDevice();
    const keys = syntheticDeviceKeys();
    const devicePubkeys = { publicKey: b64(keys.publicKey), pqPublicKey: b64(keys.pqPublicKey) };
    const auth = await d.request({ devicePubkeys });
    expect(auth).toMatchObject({ status: 'OK', authenticate: { requiresRegistration: true } });
    const mac = registrationMac(t.app.signingSecret, {
      appId: t.app.appId,
      identityType: 'email',
      identityId: 'web@example.com',
      ...keys,
      deviceType: 'browser',
    });
    const reg = await d.request({
      devicePubkeys,
      identityType: 'email',
      identityId: 'web@example.com',
      signature: b64(mac),
      type: 'browser',
    });
    expect(reg.registerDevice).toMatchObject({
      deviceId: expect.any(String),
      sessionId: expect.any(String),
      registeredAt: t.clock.now(),
    });
    d.sessionId = reg.registerDevice.sessionId;
    d.deviceId = reg.registerDevice.deviceId;
    expect(await d.request({ subscribe: true })).toMatchObject({
      status: 'OK',
      subscribeDecisions: { subscribed: true },
    });

    const decisionId = randomUUID();
    const kyberCt = Buffer.alloc(1088, 3);
    const routed = await t.agent.route({ targetDeviceId: d.deviceId!, decisionId, kyberCt });
    expect(routed.status).toBe(agent.DeliveryStatus.DELIVERED);
    const event = await d.waitFor((f) => f.decisionEvent !== undefined);
    expect(event).toMatchObject({ messageId: decisionId, status: 'OK', decisionEvent: { kyberCt: b64(kyberCt) } });
    expect(Buffer.from(event.decisionEvent.nonce, 'base64')).toHaveLength(12);

    expect(await d.request({ messageId: decisionId, receivedAt: t.clock.now() })).toMatchObject({
      decisionAck: { decisionId },
    });
    expect(await d.request({ decisionId, outcome: 'REJECT', receivedAt: t.clock.now() })).toMatchObject({
      decisionOutcome: { decisionId, outcome: 'REJECT' },
    });
    expect(await t.agent.outcome(decisionId, 'web@example.com')).toMatchObject({
      pending: false,
      outcome: agent.DecisionOutcome.DECISION_OUTCOME_REJECTED,
    });
  });

  it('registers a wallet via walletAddress and a phone via a pairing code', async () => {
    const d = await wsDevice();
    const wallet = '0x742d35Cc6634C0532925a3b844Bc454e4438f44e';
    const keys = syntheticDeviceKeys();
    const mac = registrationMac(t.app.signingSecret, {
      appId: t.app.appId,
      identityType: 'wallet',
      identityId: wallet,
      ...keys,
      deviceType: 'browser',
    });
    const reg = await d.request({
      devicePubkeys: { publicKey: b64(keys.publicKey), pqPublicKey: b64(keys.pqPublicKey) },
      walletAddress: wallet,
      signature: b64(mac),
      type: 'browser',
    });
    expect(reg.registerDevice?.deviceId).toBeTruthy();

    const pairing = t.relay.createPairing({ appId: t.app.appId, identity: '+15557654321' });
    const k2 = syntheticDeviceKeys();
    const mac2 = registrationMac(pairing.code, {
      appId: t.app.appId,
      identityType: 'phone',
      identityId: '+15557654321',
      ...k2,
      deviceType: 'browser',
    });
    const p = await (await wsDevice()).request({
      devicePubkeys: { publicKey: [...k2.publicKey], pqPublicKey: b64(k2.pqPublicKey) },
      identityType: 'phone',
      identityId: '+15557654321',
      signature: b64(mac2),
      type: 'browser',
    });
    expect(p.registerDevice?.deviceId).toBeTruthy();
  });

  it('answers malformed JSON with an INVALID_REQUEST error frame and keeps the socket serving', async () => {
    const d = await wsDevice();
    d.sendRaw('{ this is not json');
    const err = await d.waitFor((f) => f.error !== undefined);
    expect(err).toMatchObject({ requestId: '', status: 'ERROR', error: { code: 'INVALID_REQUEST', retryable: false } });
    const shapeless = await d.request({ nothing: 1 });
    expect(shapeless).toMatchObject({
      status: 'ERROR',
      error: { code: 'INVALID_REQUEST', message: expect.stringContaining('payload') },
    });
    const badBytes = await d.request({ devicePubkeys: { publicKey: '***', pqPublicKey: '' } });
    expect(badBytes.error).toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringContaining('publicKey') });
    const keys = syntheticDeviceKeys();
    const ok = await d.request({
      devicePubkeys: { publicKey: b64(keys.publicKey), pqPublicKey: b64(keys.pqPublicKey) },
    });
    expect(ok).toMatchObject({ status: 'OK', authenticate: { requiresRegistration: true } });
  });

  it('applies the same session and replay rules as the gRPC stream', async () => {
    const d = await wsDevice();
    expect((await d.request({ subscribe: true })).error?.code).toBe('UNAUTHORIZED');
    const keys = syntheticDeviceKeys();
    const devicePubkeys = { publicKey: b64(keys.publicKey), pqPublicKey: b64(keys.pqPublicKey) };
    expect((await d.request({ devicePubkeys }, { nonce: b64(randomBytes(4)) })).error?.code).toBe('INVALID_NONCE');
    expect((await d.request({ devicePubkeys }, { timestamp: t.clock.now() - 600_000 })).error?.code).toBe(
      'REPLAY_DETECTED',
    );
  });

  it('serves /healthz over HTTP and nothing else without a web root', async () => {
    const health = await fetch(`${t.relay.httpUrl}/healthz`);
    expect(await health.json()).toEqual({ ok: true });
    expect((await fetch(`${t.relay.httpUrl}/../relay.db`)).status).toBe(404);
  });
});
