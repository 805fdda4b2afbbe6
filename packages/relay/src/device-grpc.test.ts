import { randomBytes, randomUUID } from 'node:crypto';
import { credentials, Client } from '@grpc/grpc-js';
import { device } from '@noxy-approval/proto';
import {
  startTestRelay,
  type TestRelay,
  syntheticDeviceKeys,
  RawGrpcDevice,
  grpcTargetOf,
  registrationMac,
} from '@noxy-approval/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const E = device.ErrorCode;
const errorOf = (r: device.DeviceResponse) => (r.payload?.$case === 'error' ? r.payload.value : undefined);

let t: TestRelay;
beforeEach(async () => {
  t = await startTestRelay();
});
afterEach(async () => {
  await t.close();
});

describe('registration and authentication (gRPC stream)', () => {
  it('registers with the app signing secret, then authenticates the known keys with a new session', async () => {
    const dev = t.device();
    const keys = syntheticDeviceKeys();
    expect((await dev.authenticate(keys)).payload).toEqual({
      $case: 'authenticate',
      value: { requiresRegistration: true },
    });
    const reg = await dev.register(t.app.signingSecret, {
      identityType: 'email',
      identityId: 'alice@example.com',
      ...keys,
      deviceType: 'telegram',
    });
    expect(reg.status).toBe(device.ResponseStatus.OK);
    expect(reg.payload?.$case).toBe('registerDevice');
    const firstSession = dev.sessionId;
    const again = t.device();
    const auth = await again.authenticate(keys);
    expect(auth.payload).toMatchObject({
      $case: 'authenticate',
      value: { requiresRegistration: false, deviceId: dev.deviceId },
    });
    expect(again.sessionId).toBeTruthy();
    expect(again.sessionId).not.toBe(firstSession);
  });

  it('accepts a repeated register for known keys with the same device id (docs/protocol.md §10.5)', async () => {
    const { dev, keys, deviceId } = await t.addDevice({ identityType: 'phone', identityId: '+15551234567' });
    const again = await t.device().register(t.app.signingSecret, {
      identityType: 'phone',
      identityId: '+15551234567',
      ...keys,
      deviceType: 'telegram',
    });
    expect(again.payload).toMatchObject({ $case: 'registerDevice', value: { deviceId } });
    expect(dev.deviceId).toBe(deviceId);
  });

  it('refuses a wrong HMAC with INVALID_SIGNATURE and registers nothing', async () => {
    const dev = t.device();
    const keys = syntheticDeviceKeys();
    const r = await dev.register('not-the-secret', {
      identityType: 'user_id',
      identityId: 'u-1',
      ...keys,
      deviceType: 'desktop',
    });
    expect(r.status).toBe(device.ResponseStatus.ERROR);
    expect(errorOf(r)?.code).toBe(E.INVALID_SIGNATURE);
    expect((await t.agent.devices('u-1')).devices).toEqual([]);
    // The MAC covers the device type: the right secret over different fields fails too.
    const mac = registrationMac(t.app.signingSecret, {
      appId: t.app.appId,
      identityType: 'user_id',
      identityId: 'u-1',
      ...keys,
      deviceType: 'ios',
    });
    const r2 = await dev.register(
      '',
      { identityType: 'user_id', identityId: 'u-1', ...keys, deviceType: 'desktop' },
      mac,
    );
    expect(errorOf(r2)?.code).toBe(E.INVALID_SIGNATURE);
  });

  it('registers with a one-time pairing code, once; the code never works twice', async () => {
    const pairing = t.relay.createPairing({ appId: t.app.appId, identity: 'bob@example.com' });
    expect(pairing.code).toMatch(/^[A-Z2-9]{10}$/);
    const link = new URL(pairing.link);
    expect(link.protocol).toBe('noxy:');
    expect(Object.fromEntries(link.searchParams)).toEqual({
      relay: t.relay.grpcUrl,
      app: t.app.appId,
      type: 'email',
      id: 'bob@example.com',
      code: pairing.code,
    });

    const first = await t.addDevice({ identityType: 'email', identityId: 'bob@example.com' }, { key: pairing.code });
    expect(first.deviceId).toBeTruthy();
    // Same device reconnecting with its stored signature: still fine (§10.5).
    const again = await t.device().register(pairing.code, {
      identityType: 'email',
      identityId: 'bob@example.com',
      ...first.keys,
      deviceType: 'telegram',
    });
    expect(again.payload).toMatchObject({ $case: 'registerDevice', value: { deviceId: first.deviceId } });
    // A second device with the used code: refused.
    const other = await t.device().register(pairing.code, {
      identityType: 'email',
      identityId: 'bob@example.com',
      ...syntheticDeviceKeys(),
      deviceType: 'browser',
    });
    expect(errorOf(other)?.code).toBe(E.INVALID_SIGNATURE);
  });

  it('refuses a pairing code for another identity and an expired one', async () => {
    const pairing = t.relay.createPairing({
      appId: t.app.appId,
      identity: { type: 'user_id', id: 'carol' },
      ttlSeconds: 60,
    });
    const wrongId = await t.device().register(pairing.code, {
      identityType: 'user_id',
      identityId: 'mallory',
      ...syntheticDeviceKeys(),
      deviceType: 'desktop',
    });
    expect(errorOf(wrongId)?.code).toBe(E.INVALID_SIGNATURE);
    t.clock.advance(61_000);
    const late = await t.device().register(pairing.code, {
      identityType: 'user_id',
      identityId: 'carol',
      ...syntheticDeviceKeys(),
      deviceType: 'desktop',
    });
    expect(errorOf(late)?.code).toBe(E.INVALID_SIGNATURE);
  });

  it('names the field of malformed registrations', async () => {
    const dev = t.device();
    const short = await dev.register(t.app.signingSecret, {
      identityType: 'email',
      identityId: 'a@example.com',
      publicKey: randomBytes(31),
      pqPublicKey: syntheticDeviceKeys().pqPublicKey,
      deviceType: 'x',
    });
    expect(errorOf(short)).toMatchObject({ code: E.INVALID_REQUEST, message: expect.stringContaining('public_key') });
    const badPq = await dev.register(t.app.signingSecret, {
      identityType: 'email',
      identityId: 'a@example.com',
      publicKey: randomBytes(32),
      pqPublicKey: Buffer.alloc(1184, 0xff),
      deviceType: 'x',
    });
    expect(errorOf(badPq)).toMatchObject({ code: E.INVALID_REQUEST, message: expect.stringContaining('modulus') });
    const badEmail = await dev.register(t.app.signingSecret, {
      identityType: 'email',
      identityId: 'not-an-email',
      ...syntheticDeviceKeys(),
      deviceType: 'x',
    });
    expect(errorOf(badEmail)).toMatchObject({
      code: E.INVALID_REQUEST,
      message: expect.stringContaining('identity_id'),
    });
  });
});

describe('every identity type registers and receives', () => {
  it.each([
    ['wallet', '0x742d35Cc6634C0532925a3b844Bc454e4438f44e'],
    ['email', 'dana@example.com'],
    ['phone', '+442071838750'],
    ['user_id', 'user-42'],
  ] as const)('%s', async (identityType, identityId) => {
    const { dev, deviceId } = await t.addDevice({ identityType, identityId });
    const listed = await t.agent.devices(identityId);
    expect(listed.devices.map((d) => d.deviceId)).toEqual([deviceId]);
    expect(listed.devices[0]!.pqPublicKey.length).toBe(1184);
    const decisionId = randomUUID();
    const event = dev.nextEvent(decisionId);
    const routed = await t.agent.route({ targetDeviceId: deviceId, decisionId });
    expect(routed).toMatchObject({ decisionId });
    expect((await event).messageId).toBe(decisionId);
  });
});

describe('sessions and replay', () => {
  it('answers subscribe without a session id with UNAUTHORIZED, and with a foreign session id too', async () => {
    const { dev } = await t.addDevice({ identityType: 'user_id', identityId: 'u-2' }, { subscribe: false });
    const noSession = await dev.request(
      { $case: 'subscribeDecisions', value: { subscribe: true } },
      { sessionId: undefined },
    );
    expect(errorOf(noSession)?.code).toBe(E.UNAUTHORIZED);
    const other = await t.addDevice({ identityType: 'user_id', identityId: 'u-3' }, { subscribe: false });
    const foreign = await dev.request(
      { $case: 'subscribeDecisions', value: { subscribe: true } },
      { sessionId: other.dev.sessionId },
    );
    expect(errorOf(foreign)?.code).toBe(E.UNAUTHORIZED);
    const unauthenticated = await t
      .device()
      .request({ $case: 'decisionAck', value: { decisionId: 'x', receivedAt: 0n } }, { sessionId: dev.sessionId });
    expect(errorOf(unauthenticated)?.code).toBe(E.UNAUTHORIZED);
    expect((await dev.subscribe()).payload).toEqual({ $case: 'subscribeDecisions', value: { subscribed: true } });
  });

  it('checks nonce length, timestamp window and repeated nonces', async () => {
    const dev = t.device();
    const keys = syntheticDeviceKeys();
    const payload = { $case: 'authenticate' as const, value: { devicePubkeys: keys } };
    expect(errorOf(await dev.request(payload, { nonce: randomBytes(8) }))?.code).toBe(E.INVALID_NONCE);
    const stale = BigInt(t.clock.now() - 5 * 60_000 - 1);
    expect(errorOf(await dev.request(payload, { timestamp: stale }))).toMatchObject({
      code: E.REPLAY_DETECTED,
      message: expect.stringContaining('timestamp'),
    });
    const future = BigInt(t.clock.now() + 5 * 60_000 + 1);
    expect(errorOf(await dev.request(payload, { timestamp: future }))?.code).toBe(E.REPLAY_DETECTED);
    const nonce = randomBytes(12);
    expect((await dev.request(payload, { nonce })).status).toBe(device.ResponseStatus.OK);
    expect(errorOf(await dev.request(payload, { nonce }))).toMatchObject({
      code: E.REPLAY_DETECTED,
      message: expect.stringContaining('nonce'),
    });
  });

  it('answers an unknown app id with APP_NOT_FOUND', async () => {
    const r = await t.device('app_unknown').authenticate(syntheticDeviceKeys());
    expect(errorOf(r)?.code).toBe(E.APP_NOT_FOUND);
  });

  it('rate-limits a connection at 20 msg/s with retryable RATE_LIMITED, answering every request once', async () => {
    const dev = t.device();
    const keys = syntheticDeviceKeys();
    const answers = await Promise.all(
      Array.from({ length: 25 }, () => dev.request({ $case: 'authenticate', value: { devicePubkeys: keys } })),
    );
    const limited = answers.filter((r) => errorOf(r)?.code === E.RATE_LIMITED);
    expect(answers.length - limited.length).toBe(20);
    expect(limited.every((r) => errorOf(r)?.retryable === true)).toBe(true);
    // Exactly one answer per request id.
    const ids = dev.received.map((r) => r.requestId);
    expect(new Set(ids).size).toBe(25);
    t.clock.advance(1000);
    expect((await dev.authenticate(keys)).status).toBe(device.ResponseStatus.OK);
  });
});

describe('malformed frames', () => {
  it('answers undecodable protobuf bytes with INVALID_REQUEST and keeps serving this stream and others', async () => {
    const { dev: other, deviceId } = await t.addDevice({ identityType: 'user_id', identityId: 'u-9' });
    // A raw client with identity serializers writes garbage bytes on the device stream.
    const raw = new Client(grpcTargetOf(t.relay.grpcUrl), credentials.createInsecure());
    const stream = raw.makeBidiStreamRequest<Buffer, Buffer>(
      '/noxy.device.DeviceService/HandleMessage',
      (b) => b,
      (b) => b,
    );
    const frames: device.DeviceResponse[] = [];
    const got = new Promise<void>((resolve) =>
      stream.on('data', (b: Buffer) => {
        frames.push(device.DeviceResponse.decode(b));
        if (frames.length >= 2) resolve();
      }),
    );
    stream.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]));
    const valid = device.DeviceRequest.encode({
      requestId: 'after-garbage',
      appId: t.app.appId,
      timestamp: BigInt(t.clock.now()),
      nonce: randomBytes(12),
      payload: { $case: 'authenticate', value: { devicePubkeys: syntheticDeviceKeys() } },
    }).finish();
    stream.write(Buffer.from(valid));
    await got;
    expect(errorOf(frames[0]!)).toMatchObject({
      code: E.INVALID_REQUEST,
      message: expect.stringContaining('malformed'),
    });
    expect(frames[1]).toMatchObject({ requestId: 'after-garbage', payload: { $case: 'authenticate' } });
    stream.end();
    raw.close();
    // Others are unaffected.
    const decisionId = randomUUID();
    const event = other.nextEvent(decisionId);
    await t.agent.route({ targetDeviceId: deviceId, decisionId });
    expect((await event).messageId).toBe(decisionId);
  });

  it('answers a request without payload with INVALID_REQUEST and its request id', async () => {
    const dev = t.device();
    const r = await dev.request(undefined as unknown as NonNullable<device.DeviceRequest['payload']>);
    expect(errorOf(r)).toMatchObject({ code: E.INVALID_REQUEST, message: expect.stringContaining('payload') });
  });
});

describe('revoke and rotate', () => {
  it('revokes on an authenticated connection without ids; the device disappears and cannot come back', async () => {
    const { dev, keys, deviceId } = await t.addDevice({ identityType: 'email', identityId: 'eve@example.com' });
    const r = await dev.request(
      { $case: 'revokeDevice', value: { walletAddress: 'eve@example.com', signature: randomBytes(64) } },
      { sessionId: undefined, deviceId: undefined },
    );
    expect(r.payload).toEqual({ $case: 'revokeDevice', value: { revokedDeviceId: deviceId } });
    expect((await t.agent.devices('eve@example.com')).devices).toEqual([]);
    expect(errorOf(await t.device().authenticate(keys))?.code).toBe(E.DEVICE_REVOKED);
    expect((await t.agent.route({ targetDeviceId: deviceId })).status).toBe(2 /* NO_DEVICES */);
  });

  it('rotates keys: the new keys authenticate as the same device, the old ones need registration', async () => {
    const { dev, keys, deviceId } = await t.addDevice({ identityType: 'user_id', identityId: 'rot' });
    const fresh = syntheticDeviceKeys();
    const r = await dev.request(
      {
        $case: 'rotateDeviceKeys',
        value: {
          newPubkeys: fresh,
          signature: randomBytes(64),
          identityType: device.IdentityType.IDENTITY_TYPE_USER_ID,
          identityId: 'rot',
        },
      },
      { sessionId: undefined, deviceId: undefined },
    );
    expect(r.payload).toEqual({ $case: 'rotateDeviceKeys', value: { rotatedAt: BigInt(t.clock.now()) } });
    expect((await t.device().authenticate(fresh)).payload).toMatchObject({
      value: { deviceId, requiresRegistration: false },
    });
    expect((await t.device().authenticate(keys)).payload).toMatchObject({ value: { requiresRegistration: true } });
    expect((await t.agent.devices('rot')).devices[0]!.pqPublicKey.equals(fresh.pqPublicKey)).toBe(true);
  });

  it('refuses revoke and rotate before authentication', async () => {
    const dev = t.device();
    const r = await dev.request({ $case: 'revokeDevice', value: { walletAddress: '', signature: Buffer.alloc(0) } });
    expect(errorOf(r)?.code).toBe(E.UNAUTHORIZED);
  });

  it('keeps a device stream usable after another stream of the same app closes abruptly', async () => {
    const a = await t.addDevice({ identityType: 'user_id', identityId: 'abrupt-a' });
    const b = new RawGrpcDevice(t.relay.grpcUrl, t.app.appId, t.clock.now);
    await b.authenticate(a.keys);
    b.stream.cancel();
    b.client.close();
    expect((await a.dev.subscribe()).status).toBe(device.ResponseStatus.OK);
  });
});
