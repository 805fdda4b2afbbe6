/**
 * Issue 12 end to end against the REAL relay: proofs of possession (the replay of a captured
 * registration frame no longer opens a session), signed outcomes verified by the agent over
 * gRPC and WebSocket with our device, key rotation, and the official-SDK-shaped raw device
 * (no proof, no signature) in the relay's default mode and under `--require-device-proof`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import {
  createApprovalEngine,
  createMemoryDeviceKeyStore,
  createNoxyClient,
  loadKemBackend,
  runGated,
  type KemBackend,
} from '@noxy-approval/core';
import {
  autoDecide,
  createMemoryKeyStore,
  createNoxyDevice,
  requestProver,
  type DeviceKeys,
  type NoxyDeviceNodeOptions,
} from '@noxy-approval/device';
import { device as proto } from '@noxy-approval/proto';
import { silentLogger, startRelay, type Relay } from '@noxy-approval/relay';
import { registrationMac, startTestRelay, syntheticDeviceKeys, type TestRelay } from '@noxy-approval/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

const IDENTITY = 'alice@example.com';
const E = proto.ErrorCode;

let kem: KemBackend;
beforeAll(async () => {
  kem = await loadKemBackend('mlkem');
});
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function testRelay(options: Parameters<typeof startTestRelay>[0] = {}): Promise<TestRelay> {
  const t = await startTestRelay(options);
  cleanup.push(() => t.close());
  return t;
}

/** Real Ed25519 keys (the synthetic ones are random bytes) with a valid ML-KEM public key. */
function proofKeys(): DeviceKeys & { wire: { publicKey: Buffer; pqPublicKey: Buffer } } {
  const ed = ed25519.keygen();
  const { pqPublicKey } = syntheticDeviceKeys();
  return {
    ed25519: ed,
    mlkem: { secretKey: new Uint8Array(0), publicKey: pqPublicKey },
    wire: { publicKey: Buffer.from(ed.publicKey), pqPublicKey },
  };
}

/** A frame's envelope, chosen by the test so that a proof can be made (or replayed) for it. */
const envelope = (t: TestRelay) => ({
  requestId: randomUUID(),
  appId: t.app.appId,
  timestamp: t.clock.now(),
  nonce: randomBytes(12),
});

/** The device library's own prover, over the envelope the raw device will send. */
function proofFor(
  keys: DeviceKeys,
  env: ReturnType<typeof envelope>,
  payload: Parameters<ReturnType<typeof requestProver>>[0]['payload'],
): Buffer {
  const prove = requestProver({ keys: () => keys, deviceId: () => undefined, identityId: IDENTITY });
  return Buffer.from(prove({ ...env, payload })!);
}

function registerFrame(t: TestRelay, keys: ReturnType<typeof proofKeys>, withProof: boolean) {
  const env = envelope(t);
  const fields = { identityType: 'email' as const, identityId: IDENTITY, deviceType: 'desktop', ...keys.wire };
  const signature = registrationMac(t.app.signingSecret, { ...fields, appId: t.app.appId });
  const proof = withProof
    ? proofFor(keys, env, {
        kind: 'registerDevice',
        keys: keys.wire,
        signature,
        deviceType: 'desktop',
        identityType: 'email',
        identityId: IDENTITY,
      })
    : undefined;
  const payload: NonNullable<proto.DeviceRequest['payload']> = {
    $case: 'registerDevice',
    value: {
      devicePubkeys: keys.wire,
      identityId: IDENTITY,
      identityType: proto.IdentityType.IDENTITY_TYPE_EMAIL,
      signature,
      type: 'desktop',
      ...(proof ? { deviceProof: proof } : {}),
    },
  };
  return { env, payload };
}

const send = (
  dev: ReturnType<TestRelay['device']>,
  f: { env: ReturnType<typeof envelope>; payload: NonNullable<proto.DeviceRequest['payload']> },
) => dev.request(f.payload, { ...f.env, timestamp: BigInt(f.env.timestamp), nonce: f.env.nonce });

describe('proof of possession: a captured frame cannot be replayed', () => {
  it('re-sent with fresh nonce and timestamp, same keys, no or stale proof: refused, no session or event', async () => {
    const t = await testRelay();
    const keys = proofKeys();
    const victim = t.device();
    const captured = registerFrame(t, keys, true);
    const reg = await send(victim, captured);
    expect(reg.payload?.$case).toBe('registerDevice');
    const deviceId = reg.payload?.$case === 'registerDevice' ? reg.payload.value.deviceId : '';
    expect(t.relay.store.devices.get(deviceId)?.deviceProof).toBe(true);
    victim.deviceId = deviceId;
    victim.sessionId = reg.payload?.$case === 'registerDevice' ? reg.payload.value.sessionId : undefined;
    expect((await victim.subscribe()).payload?.$case).toBe('subscribeDecisions');

    // A genuine authenticate on a second connection, seen by the attacker too.
    const authEnv = envelope(t);
    const capturedAuth = {
      env: authEnv,
      payload: {
        $case: 'authenticate' as const,
        value: {
          devicePubkeys: keys.wire,
          deviceProof: proofFor(keys, authEnv, { kind: 'authenticate', keys: keys.wire }),
        },
      },
    };
    const genuine = await send(t.device(), capturedAuth);
    expect(genuine.payload?.$case === 'authenticate' && genuine.payload.value.deviceId).toBe(deviceId);

    // The attacker saw the register_device and authenticate frames, and re-sends them later.
    t.clock.advance(60_000);
    const attacker = t.device();
    const fresh = () => ({ requestId: randomUUID(), timestamp: BigInt(t.clock.now()), nonce: randomBytes(12) });
    const answers = [
      // register_device, captured proof (stale: it covers the old request id, timestamp and nonce)
      await attacker.request(captured.payload, fresh()),
      // register_device without any proof (an official-SDK-shaped replay of the HMAC)
      await attacker.request(registerFrame(t, keys, false).payload, fresh()),
      // authenticate without a proof
      await attacker.request({ $case: 'authenticate', value: { devicePubkeys: keys.wire } }, fresh()),
      // authenticate carrying the captured proof
      await attacker.request(capturedAuth.payload, fresh()),
      // the very same authenticate frame, byte for byte: its nonce was used
      await send(attacker, capturedAuth),
    ];
    for (const a of answers.slice(0, 4)) {
      expect(a.payload?.$case).toBe('error');
      expect(a.payload?.$case === 'error' && a.payload.value.code).toBe(E.INVALID_SIGNATURE);
    }
    expect(answers[4]!.payload?.$case === 'error' && answers[4]!.payload.value.code).toBe(E.REPLAY_DETECTED);
    expect(answers[1]!.payload?.$case === 'error' && answers[1]!.payload.value.message).toMatch(
      /"register_device.device_proof" missing: this device registered with proofs/,
    );
    // No session: the attacker cannot subscribe, so a decision routed now reaches only the victim.
    const sub = await attacker.subscribe();
    expect(sub.payload?.$case === 'error' && sub.payload.value.code).toBe(E.UNAUTHORIZED);
    const routed = await t.agent.route({ targetDeviceId: deviceId });
    expect(routed.status).toBe(0);
    await victim.nextEvent();
    expect(attacker.events('decisionEvent')).toHaveLength(0);

    // The genuine device, with a fresh proof for a fresh frame, still authenticates.
    const again = t.device();
    const env = envelope(t);
    const proof = proofFor(keys, env, { kind: 'authenticate', keys: keys.wire });
    const auth = await send(again, {
      env,
      payload: { $case: 'authenticate', value: { devicePubkeys: keys.wire, deviceProof: proof } },
    });
    expect(auth.payload?.$case === 'authenticate' && auth.payload.value.deviceId).toBe(deviceId);

    // A proof-bound device's rotation needs the old key's rotation_proof; without it nothing changes.
    again.deviceId = deviceId;
    again.sessionId = auth.payload?.$case === 'authenticate' ? auth.payload.value.sessionId : undefined;
    const next = proofKeys();
    const rotate = await again.request({
      $case: 'rotateDeviceKeys',
      value: {
        newPubkeys: next.wire,
        signature: Buffer.alloc(64),
        identityId: IDENTITY,
        identityType: proto.IdentityType.IDENTITY_TYPE_EMAIL,
      },
    });
    expect(rotate.payload?.$case === 'error' && rotate.payload.value).toMatchObject({
      code: E.INVALID_SIGNATURE,
      message: expect.stringContaining('"rotate_device_keys.rotation_proof" missing'),
    });
    expect(t.relay.store.devices.get(deviceId)?.publicKey.equals(keys.wire.publicKey)).toBe(true);
  });

  it('a device registered without a proof is bound to proofs by its first valid authenticate proof', async () => {
    const t = await testRelay();
    const keys = proofKeys();
    const reg = await send(t.device(), registerFrame(t, keys, false));
    const deviceId = reg.payload?.$case === 'registerDevice' ? reg.payload.value.deviceId : '';
    expect(t.relay.store.devices.get(deviceId)?.deviceProof).toBe(false);
    const env = envelope(t);
    const proof = proofFor(keys, env, { kind: 'authenticate', keys: keys.wire });
    const auth = await send(t.device(), {
      env,
      payload: { $case: 'authenticate', value: { devicePubkeys: keys.wire, deviceProof: proof } },
    });
    expect(auth.payload?.$case).toBe('authenticate');
    expect(t.relay.store.devices.get(deviceId)?.deviceProof).toBe(true);
    // From now on the proof-less authenticate of an official SDK is refused for these keys.
    const bare = await t.device().authenticate(keys.wire);
    expect(bare.payload?.$case === 'error' && bare.payload.value.code).toBe(E.INVALID_SIGNATURE);
  });

  it('an official-SDK-shaped device (no proof, no signature) registers and approves in the default mode', async () => {
    const t = await testRelay();
    const { dev, deviceId } = await t.addDevice({ identityType: 'email', identityId: IDENTITY });
    expect(t.relay.store.devices.get(deviceId)?.deviceProof).toBe(false);
    const agent = createNoxyClient({ endpoint: t.relay.grpcUrl, authToken: t.app.appToken, kem });
    cleanup.push(() => agent.close());
    const routed = await t.agent.route({ targetDeviceId: deviceId, decisionId: 'd-official' });
    expect(routed.decisionId).toBe('d-official');
    await dev.nextEvent('d-official');
    const answer = await dev.outcome('d-official', 'APPROVE');
    expect(answer.payload?.$case).toBe('decisionOutcome');
    const snap = await agent.getDecisionOutcome({ decisionId: 'd-official', identity: IDENTITY });
    expect(snap).toMatchObject({ outcome: 'approved', verification: { verified: false, reason: 'unsigned' } });
    // GetIdentityDevices keeps hiding an official device's Ed25519 key (README "Security").
    expect((await agent.getIdentityDevices(IDENTITY))[0]!.publicKey).toHaveLength(0);
  });

  it('with --require-device-proof the official-SDK-shaped device is refused, naming the option', async () => {
    const t = await testRelay({ requireDeviceProof: true });
    const dev = t.device();
    const keys = syntheticDeviceKeys();
    const r = await dev.register(t.app.signingSecret, {
      identityType: 'email',
      identityId: IDENTITY,
      deviceType: 'telegram',
      ...keys,
    });
    expect(r.payload?.$case === 'error' && r.payload.value).toMatchObject({
      code: E.INVALID_SIGNATURE,
      message: expect.stringContaining('--require-device-proof'),
    });
    const auth = await dev.authenticate(keys);
    expect(auth.payload?.$case === 'error' && auth.payload.value.code).toBe(E.INVALID_SIGNATURE);
    expect(dev.sessionId).toBeUndefined();
  });
});

async function ourDevice(relay: Relay, o: Partial<NoxyDeviceNodeOptions> & { appId: string }) {
  const transport = o.transport ?? 'grpc';
  const d = await createNoxyDevice({
    relayUrl: transport === 'websocket' ? relay.httpUrl : relay.grpcUrl,
    identity: IDENTITY,
    kem,
    keyStore: createMemoryKeyStore(),
    ...o,
  });
  cleanup.push(() => d.close());
  return d;
}

describe.each(['grpc', 'websocket'] as const)('signed outcomes with our device over %s', (transport) => {
  it('approvals verify with requireDeviceSignature and --require-device-proof, also after a rotation', async () => {
    const relay = await startRelay({ dataDir: ':memory:', logger: silentLogger, requireDeviceProof: true });
    cleanup.push(() => relay.close());
    const app = relay.createApp({ name: 'proof-e2e' });
    const d = await ourDevice(relay, { appId: app.appId, signingSecret: app.signingSecret, transport });
    await d.connect();
    cleanup.push(autoDecide(d, () => 'approve'));
    const deviceKeys = createMemoryDeviceKeyStore();
    const client = createNoxyClient({
      endpoint: relay.grpcUrl,
      authToken: app.appToken,
      kem,
      requireDeviceSignature: true,
      deviceKeys,
    });
    cleanup.push(() => client.close());
    const engine = createApprovalEngine({ client, agent: { name: 'e2e' } });
    expect(engine.requireDeviceSignature).toBe(true);
    const runs: unknown[] = [];
    const gated = () =>
      runGated(
        engine,
        { tool: 'transfer_funds', args: { to: 'bob', amount: 25 }, title: 'Send 25 to Bob' },
        (args) => runs.push(args),
        { identity: IDENTITY, holdMs: 10_000 },
      );

    const first = await gated();
    expect(first).toMatchObject({ status: 'executed' });
    expect(first.approval.verification).toEqual({ verified: true, deviceId: d.deviceId });
    const pinned = await deviceKeys.get(IDENTITY, d.deviceId!);
    expect(Buffer.from(pinned!).equals(Buffer.from(d.publicKeys.publicKey))).toBe(true);

    // Rotation: the new key is announced with the old key's signature; the pin follows it.
    await d.rotateKeys();
    const second = await gated();
    expect(second).toMatchObject({ status: 'executed' });
    expect(second.approval.verification).toEqual({ verified: true, deviceId: d.deviceId });
    const repinned = await deviceKeys.get(IDENTITY, d.deviceId!);
    expect(Buffer.from(repinned!).equals(Buffer.from(d.publicKeys.publicKey))).toBe(true);
    expect(Buffer.from(repinned!).equals(Buffer.from(pinned!))).toBe(false);
    expect(runs).toHaveLength(2);
  });
});
