import { loadKemBackend, sealEnvelope, type KemBackend } from '@noxy-approval/core/portable';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { NoxyDevice } from './device.js';
import { createMemoryKeyStore, decodeStoredDevice } from './key-store.js';
import { generateDeviceKeys } from './keys.js';
import { createNoxyDevice } from './node-device.js';
import { verifyRegistrationSignature } from './registration.js';
import { createFakeTransport, type FakeConnection, type FakeTransport } from './test-support/fake-transport.js';

let kem: KemBackend;
beforeAll(async () => {
  kem = await loadKemBackend('mlkem');
});

const APP = 'app_test';
const IDENTITY = 'alice@example.com';
const SECRET = 'app-signing-secret';
const devices: NoxyDevice[] = [];

afterEach(() => {
  for (const d of devices.splice(0)) d.close();
  vi.useRealTimers();
});

/** Waits (bounded) for real async work such as WebCrypto to settle. */
async function until(check: () => boolean, rounds = 500): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    if (check()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error('condition not reached');
}

async function makeDevice(fake: FakeTransport, extra: Record<string, unknown> = {}) {
  const keyStore = createMemoryKeyStore();
  const device = await createNoxyDevice({
    relayUrl: 'http://127.0.0.1:1',
    appId: APP,
    identity: IDENTITY,
    signingSecret: SECRET,
    keyStore,
    kem,
    transport: fake.transport,
    random: () => 0,
    ...extra,
  });
  devices.push(device);
  return { device, keyStore };
}

async function sealFor(device: NoxyDevice, payload: unknown) {
  const env = await sealEnvelope(new TextEncoder().encode(JSON.stringify(payload)), device.publicKeys.pqPublicKey, {
    kem,
  });
  return { kind: 'decisionEvent' as const, kyberCt: env.kyberCt, nonce: env.nonce, ciphertext: env.ciphertext };
}

const last = (c: FakeConnection) => c.sent[c.sent.length - 1]!;

describe('NoxyDevice handshake', () => {
  it('authenticates, registers with the HMAC when asked, then subscribes with the issued ids', async () => {
    const fake = createFakeTransport();
    fake.autoHandshake = { requiresRegistration: true, deviceId: 'dev_1' };
    const { device } = await makeDevice(fake);
    const states: string[] = [];
    device.on('state', (s) => states.push(s.state));
    await device.connect();
    const [auth, reg, sub] = fake.connections[0]!.sent;
    expect(auth?.payload.kind).toBe('authenticate');
    expect(auth?.sessionId).toBeUndefined();
    expect(reg?.payload).toMatchObject({
      kind: 'registerDevice',
      deviceType: 'desktop',
      identityType: 'email',
      identityId: IDENTITY,
    });
    if (reg?.payload.kind !== 'registerDevice') throw new Error('unreachable');
    const fields = {
      appId: APP,
      identityType: 'email' as const,
      identityId: IDENTITY,
      publicKey: reg.payload.keys.publicKey,
      pqPublicKey: reg.payload.keys.pqPublicKey,
      deviceType: 'desktop',
    };
    expect(verifyRegistrationSignature(SECRET, fields, reg.payload.signature)).toBe(true);
    expect(sub?.payload).toEqual({ kind: 'subscribeDecisions', subscribe: true });
    expect(sub?.deviceId).toBe('dev_1');
    expect(sub?.sessionId).toMatch(/^s\d+$/);
    expect(device.deviceId).toBe('dev_1');
    expect(states).toEqual(['connecting', 'ready']);
  });

  it('fails fatally (no retry, no timer) when the relay refuses the registration signature', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const fake = createFakeTransport();
    const { device } = await makeDevice(fake);
    const errors: string[] = [];
    device.on('error', (e) => errors.push(e.code));
    const connected = device.connect().catch((e: unknown) => e);
    await until(() => fake.connections[0]?.sent.length === 1);
    fake.connections[0]!.answer(0, { kind: 'authenticate', requiresRegistration: true });
    await until(() => fake.connections[0]!.sent.length === 2);
    fake.connections[0]!.answer(1, { kind: 'error', code: 'INVALID_SIGNATURE', message: 'bad hmac', retryable: false });
    expect(await connected).toMatchObject({ code: 'UNAUTHENTICATED', relayCode: 'INVALID_SIGNATURE' });
    expect(device.state).toBe('closed');
    expect(errors).toEqual(['UNAUTHENTICATED']);
    expect(fake.attempts).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('refuses to register without a signing secret, pairing code or stored signature', async () => {
    const fake = createFakeTransport();
    fake.autoHandshake = { requiresRegistration: true, deviceId: 'dev_1' };
    const { device } = await makeDevice(fake, { signingSecret: undefined });
    await expect(device.connect()).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/pairingCode/),
    });
  });
});

describe('NoxyDevice decisions', () => {
  async function ready(extra: Record<string, unknown> = {}) {
    const fake = createFakeTransport();
    fake.autoHandshake = { requiresRegistration: false, deviceId: 'dev_1' };
    const made = await makeDevice(fake, extra);
    await made.device.connect();
    return { fake, conn: fake.connections[0]!, ...made };
  }

  it('decrypts a decision, emits it once, and acks delivery with the relay message id', async () => {
    const { device, conn } = await ready();
    const seen: unknown[] = [];
    device.on('decision', (d) => seen.push(d));
    const payload = {
      v: 1,
      kind: 'propose_tool_call',
      decision_id: 'dec-1',
      tool: 't',
      args: { n: 12345678901234567890n.toString() },
    };
    const event = await sealFor(device, payload);
    conn.push({ messageId: 'dec-1', payload: event });
    await until(() => seen.length === 1 && last(conn).payload.kind === 'decisionAck');
    expect(seen[0]).toMatchObject({ decisionId: 'dec-1', messageId: 'dec-1', payload });
    expect(last(conn)).toMatchObject({ deviceId: 'dev_1', payload: { kind: 'decisionAck', decisionId: 'dec-1' } });
    expect(device.pendingDecisions().map((d) => d.decisionId)).toEqual(['dec-1']);
    // Redelivery (e.g. after a reconnect): acked again, not shown twice.
    const before = conn.sent.length;
    conn.push({ messageId: 'dec-1', payload: event });
    await until(() => conn.sent.length === before + 1);
    expect(last(conn).payload.kind).toBe('decisionAck');
    expect(seen).toHaveLength(1);
  });

  it('uses the relay message id when the payload has no decision id (official SDK payloads)', async () => {
    const { device, conn } = await ready();
    const seen: string[] = [];
    device.on('decision', (d) => seen.push(d.decisionId));
    conn.push({ messageId: 'relay-7', payload: await sealFor(device, { title: 'Pay?' }) });
    await until(() => seen.length === 1);
    expect(seen).toEqual(['relay-7']);
  });

  it(
    'drops an undecryptable or mismatched event with an error event, no ack, ' + 'and no plaintext in the error',
    async () => {
      const { device, conn } = await ready();
      const errors: Error[] = [];
      const decisions: unknown[] = [];
      device.on('error', (e) => errors.push(e));
      device.on('decision', (d) => decisions.push(d));
      const other = generateDeviceKeys(kem);
      const env = await sealEnvelope(new TextEncoder().encode('{"summary":"TOP SECRET"}'), other.mlkem.publicKey, {
        kem,
      });
      const sentBefore = conn.sent.length;
      conn.push({
        messageId: 'm-x',
        payload: { kind: 'decisionEvent', kyberCt: env.kyberCt, nonce: env.nonce, ciphertext: env.ciphertext },
      });
      conn.push({
        messageId: 'm-y',
        payload: await sealFor(device, { decision_id: 'another', summary: 'TOP SECRET' }),
      });
      const dup = await sealEnvelope(new TextEncoder().encode('{"a":1,"a":2}'), device.publicKeys.pqPublicKey, { kem });
      conn.push({
        messageId: 'm-z',
        payload: { kind: 'decisionEvent', kyberCt: dup.kyberCt, nonce: dup.nonce, ciphertext: dup.ciphertext },
      });
      await until(() => errors.length === 3);
      expect(errors.map((e) => (e as { code?: string }).code).sort()).toEqual(['CRYPTO', 'PROTOCOL', 'PROTOCOL']);
      for (const e of errors) expect(e.message).not.toContain('TOP SECRET');
      expect(decisions).toHaveLength(0);
      expect(conn.sent.length).toBe(sentBefore);
    },
  );

  it('decide() sends the outcome and resolves with the outcome the relay recorded', async () => {
    const { device, conn, fake } = await ready();
    const outcomes: unknown[] = [];
    device.on('outcome', (o) => outcomes.push(o));
    await expect(device.decide('dec-1', 'reject')).resolves.toEqual({
      decisionId: 'dec-1',
      outcome: 'reject',
      requested: 'reject',
    });
    expect(last(conn).payload).toMatchObject({ kind: 'decisionOutcome', decisionId: 'dec-1', outcome: 'REJECT' });
    // Another device answered first: the relay returns the stored first outcome.
    fake.autoHandshake = undefined;
    const p = device.decide('dec-2', 'reject');
    await until(
      () =>
        last(conn).payload.kind === 'decisionOutcome' &&
        (last(conn).payload as { decisionId: string }).decisionId === 'dec-2',
    );
    conn.answer(conn.sent.length - 1, { kind: 'decisionOutcome', decisionId: 'dec-2', outcome: 'APPROVE' });
    await expect(p).resolves.toEqual({ decisionId: 'dec-2', outcome: 'approve', requested: 'reject' });
    expect(outcomes).toHaveLength(2);
    await expect(device.decide('', 'approve')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'decisionId' });
    await expect(device.decide('x', 'maybe' as never)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'choice',
    });
  });

  it('decide() waits and resends an answer the relay refused with RATE_LIMITED; other refusals are final', async () => {
    const { device, conn, fake } = await ready();
    fake.autoHandshake = undefined;
    const outcomeRequests = () => conn.sent.filter((r) => r.payload.kind === 'decisionOutcome').length;
    const p = device.decide('dec-r', 'approve');
    await until(() => outcomeRequests() === 1);
    conn.answer(conn.sent.length - 1, { kind: 'error', code: 'RATE_LIMITED', message: 'slow down', retryable: true });
    // The bucket refills: the same answer goes again after a short wait (100 ms first).
    for (let i = 0; i < 200 && outcomeRequests() < 2; i++) await new Promise((r) => setTimeout(r, 5));
    expect(outcomeRequests()).toBe(2);
    conn.answer(conn.sent.length - 1, { kind: 'decisionOutcome', decisionId: 'dec-r', outcome: 'APPROVE' });
    await expect(p).resolves.toMatchObject({ decisionId: 'dec-r', outcome: 'approve' });

    const q = device.decide('dec-s', 'approve');
    await until(() => outcomeRequests() === 3);
    conn.answer(conn.sent.length - 1, { kind: 'error', code: 'INVALID_REQUEST', message: 'no', retryable: false });
    await expect(q).rejects.toMatchObject({ relayCode: 'INVALID_REQUEST' });
    expect(outcomeRequests()).toBe(3);
  });

  it('decide() refuses, without asking the relay, a decision whose expires_at has passed', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const { device, conn } = await ready({ now: () => now });
    device.on('decision', () => {});
    const payload = { decision_id: 'dec-e', expires_at: '2026-01-01T00:00:02.000Z' };
    conn.push({ messageId: 'dec-e', payload: await sealFor(device, payload) });
    await until(() => device.pendingDecisions().length === 1);
    now += 2_000;
    const before = conn.sent.length;
    await expect(device.decide('dec-e', 'approve')).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'decisionId',
      message: expect.stringContaining('expired'),
    });
    expect(conn.sent.slice(before).some((r) => r.payload.kind === 'decisionOutcome')).toBe(false);
    expect(device.pendingDecisions()).toHaveLength(0);
  });

  it('emits a soft-cancel for decision_routed and forgets the decision', async () => {
    const { device, conn } = await ready();
    const routed: string[] = [];
    device.on('routed', (r) => routed.push(r.decisionId));
    device.on('decision', () => {});
    conn.push({ messageId: 'dec-9', payload: await sealFor(device, { decision_id: 'dec-9' }) });
    await until(() => device.pendingDecisions().length === 1);
    conn.push({ messageId: 'dec-9', payload: { kind: 'decisionRouted', decisionId: 'dec-9' } });
    expect(routed).toEqual(['dec-9']);
    expect(device.pendingDecisions()).toHaveLength(0);
  });

  it(
    'rotateKeys() sends new keys with a 64-byte device signature, stores them, ' +
      'and still opens events sealed for the old key',
    async () => {
      const { device, conn, keyStore, fake } = await ready();
      const oldPq = device.publicKeys.pqPublicKey;
      const oldEvent = await sealFor(device, { decision_id: 'old-1' });
      fake.autoHandshake = undefined;
      const rotated = device.rotateKeys();
      await until(() => last(conn).payload.kind === 'rotateDeviceKeys');
      const req = last(conn);
      if (req.payload.kind !== 'rotateDeviceKeys') throw new Error('unreachable');
      expect(req.payload.signature).toHaveLength(64);
      expect(req.payload).toMatchObject({ identityType: 'email', identityId: IDENTITY });
      conn.answer(conn.sent.length - 1, { kind: 'rotateDeviceKeys', rotatedAt: 42 });
      await expect(rotated).resolves.toEqual({ rotatedAt: 42 });
      expect(device.publicKeys.pqPublicKey).toEqual(req.payload.newKeys.pqPublicKey);
      expect(device.publicKeys.pqPublicKey).not.toEqual(oldPq);
      const stored = decodeStoredDevice(
        (await keyStore.read({ appId: APP, identityType: 'email', identityId: IDENTITY }))!,
        { appId: APP, identityType: 'email', identityId: IDENTITY },
      );
      expect(stored.keys.mlkem.publicKey).toEqual(req.payload.newKeys.pqPublicKey);
      expect(
        stored.registrationSignature &&
          verifyRegistrationSignature(
            SECRET,
            {
              appId: APP,
              identityType: 'email',
              identityId: IDENTITY,
              publicKey: stored.keys.ed25519.publicKey,
              pqPublicKey: stored.keys.mlkem.publicKey,
              deviceType: 'desktop',
            },
            stored.registrationSignature,
          ),
      ).toBe(true);
      const seen: string[] = [];
      device.on('decision', (d) => seen.push(d.decisionId));
      conn.push({ messageId: 'old-1', payload: oldEvent });
      await until(() => seen.length === 1);
    },
  );

  it('revoke() signs, removes the stored keys and closes the device', async () => {
    const { device, conn, keyStore, fake } = await ready();
    fake.autoHandshake = undefined;
    const revoked = device.revoke();
    await until(() => last(conn).payload.kind === 'revokeDevice');
    expect(last(conn).payload).toMatchObject({ kind: 'revokeDevice', identityId: IDENTITY });
    conn.answer(conn.sent.length - 1, { kind: 'revokeDevice', revokedDeviceId: 'dev_1' });
    await expect(revoked).resolves.toEqual({ revokedDeviceId: 'dev_1' });
    expect(keyStore.documents.size).toBe(0);
    expect(device.state).toBe('closed');
  });
});

describe('NoxyDevice reconnect', () => {
  it('reconnects with backoff after a drop, re-authenticates and re-subscribes; close() leaves no timer', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const fake = createFakeTransport();
    fake.autoHandshake = { requiresRegistration: false, deviceId: 'dev_1' };
    const { device } = await makeDevice(fake, { random: () => 0.5 });
    const waits: number[] = [];
    device.on('state', (s) => s.state === 'waiting' && waits.push(s.delayMs!));
    await device.connect();
    fake.refuse = true;
    fake.connections[0]!.drop();
    await until(() => waits.length === 1);
    expect(waits[0]).toBe(375); // attempt 0: 500 ms step, half fixed + 0.5 · half
    for (let i = 0; i < 8; i++) {
      await vi.advanceTimersByTimeAsync(waits[waits.length - 1]!);
      await until(() => waits.length === i + 2);
    }
    expect(waits).toEqual([375, 375, 750, 1500, 3000, 6000, 12000, 22500, 22500]);
    fake.refuse = false;
    await vi.advanceTimersByTimeAsync(22500);
    await until(() => device.state === 'ready');
    const again = fake.connections[1]!.sent.map((r) => r.payload.kind);
    expect(again).toEqual(['authenticate', 'subscribeDecisions']);
    device.close();
    expect(vi.getTimerCount()).toBe(0);
    await expect(device.connect()).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('close() while waiting to reconnect cancels the timer', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const fake = createFakeTransport();
    fake.refuse = true;
    const { device } = await makeDevice(fake);
    const pending = device.connect().catch((e: unknown) => e);
    await until(() => device.state === 'waiting');
    expect(vi.getTimerCount()).toBe(1);
    device.close();
    expect(await pending).toMatchObject({ code: 'CLOSED' });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('decide() while disconnected fails after the request timeout', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const fake = createFakeTransport();
    fake.refuse = true;
    const { device } = await makeDevice(fake, { requestTimeoutMs: 1_000 });
    const p = device.decide('d', 'approve').catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await p).toMatchObject({ code: 'RELAY_UNAVAILABLE' });
  });
});

describe('createNoxyDevice option checks', () => {
  const ok = { relayUrl: 'http://127.0.0.1:1', appId: 'app_1', identity: 'alice@example.com', signingSecret: 's' };
  it.each([
    [{ appId: '' }, 'appId'],
    [{ appId: 'has space' }, 'appId'],
    [{ relayUrl: 'http://example.com:1' }, 'relayUrl'],
    [{ relayUrl: 'ftp://127.0.0.1' }, 'relayUrl'],
    [{ identity: 'not-an-email@' }, 'identity'],
    [{ identity: { type: 'fax', id: '1' } }, 'identity.type'],
    [{ pairingCode: 'c' }, 'pairingCode'],
    [{ signingSecret: '  ' }, 'signingSecret'],
    [{ deviceType: 'Desk Top' }, 'deviceType'],
    [{ transport: 'carrier-pigeon' }, 'transport'],
    [{ requestTimeoutMs: 0 }, 'requestTimeoutMs'],
  ])('refuses %j naming %s', async (bad, field) => {
    await expect(createNoxyDevice({ ...ok, kem, ...(bad as object) } as never)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field,
    });
  });
});
