import { device } from '@noxy-approval/proto';
import { describe, expect, it } from 'vitest';
import { toBase64 } from './bytes.js';
import { fromProtoResponse, toProtoRequest } from './grpc-codec.js';
import type { RequestPayload, WireRequest } from './wire.js';
import { decodeWsResponse, encodeWsRequest } from './ws-codec.js';

const pk = new Uint8Array(32).fill(1);
const pq = new Uint8Array(1184).fill(2);
const sig = new Uint8Array(32).fill(3);
const keys = { publicKey: pk, pqPublicKey: pq };

function req(payload: RequestPayload, ids = true): WireRequest {
  return {
    requestId: '7d1c5f2e-1111-4222-8333-444455556666',
    appId: 'app_1',
    timestamp: 1_760_000_000_000,
    nonce: new Uint8Array(12).fill(9),
    ...(ids ? { deviceId: 'dev_1', sessionId: 'ses_1' } : {}),
    payload,
  };
}

const ws = (payload: RequestPayload, ids = true) => JSON.parse(encodeWsRequest(req(payload, ids)));

describe('WebSocket JSON requests (docs/protocol.md §5.4, untagged payloads)', () => {
  it('frames the envelope with camelCase ids, ms timestamp and base64 nonce', () => {
    expect(ws({ kind: 'subscribeDecisions', subscribe: true })).toEqual({
      requestId: '7d1c5f2e-1111-4222-8333-444455556666',
      appId: 'app_1',
      timestamp: 1_760_000_000_000,
      nonce: toBase64(new Uint8Array(12).fill(9)),
      deviceId: 'dev_1',
      sessionId: 'ses_1',
      payload: { subscribe: true },
    });
    expect(ws({ kind: 'authenticate', keys }, false)).not.toHaveProperty('sessionId');
  });

  it('writes each payload in the shape the relay recognises', () => {
    const devicePubkeys = { publicKey: toBase64(pk), pqPublicKey: toBase64(pq) };
    expect(ws({ kind: 'authenticate', keys }).payload).toEqual({ devicePubkeys });
    expect(
      ws({
        kind: 'registerDevice',
        keys,
        signature: sig,
        deviceType: 'desktop',
        identityType: 'email',
        identityId: 'a@b.co',
      }).payload,
    ).toEqual({
      devicePubkeys,
      identityType: 'email',
      identityId: 'a@b.co',
      signature: toBase64(sig),
      type: 'desktop',
    });
    const wallet = '0x000000000000000000000000000000000000dEaD';
    expect(
      ws({
        kind: 'registerDevice',
        keys,
        signature: sig,
        deviceType: 'desktop',
        identityType: 'wallet',
        identityId: wallet,
      }).payload,
    ).toMatchObject({
      identityType: 'wallet',
      walletAddress: wallet,
    });
    expect(ws({ kind: 'decisionAck', decisionId: 'd1', receivedAt: 5 }).payload).toEqual({
      messageId: 'd1',
      receivedAt: 5,
    });
    expect(ws({ kind: 'decisionOutcome', decisionId: 'd1', outcome: 'REJECT', receivedAt: 6 }).payload).toEqual({
      decisionId: 'd1',
      outcome: 'REJECT',
      receivedAt: 6,
    });
    expect(ws({ kind: 'revokeDevice', identityId: 'a@b.co', signature: sig }).payload).toEqual({
      walletAddress: 'a@b.co',
      signature: toBase64(sig),
    });
    expect(
      ws({ kind: 'rotateDeviceKeys', newKeys: keys, signature: sig, identityType: 'phone', identityId: '+15551234567' })
        .payload,
    ).toEqual({
      newPubkeys: devicePubkeys,
      identityType: 'phone',
      identityId: '+15551234567',
      signature: toBase64(sig),
    });
  });
});

describe('WebSocket JSON responses (tagged camelCase)', () => {
  it('decodes each payload kind', () => {
    expect(
      decodeWsResponse('{"requestId":"r","status":"OK","timestamp":5,"authenticate":{"requiresRegistration":true}}'),
    ).toEqual({
      requestId: 'r',
      status: 'OK',
      timestamp: 5,
      payload: { kind: 'authenticate', requiresRegistration: true },
    });
    expect(
      decodeWsResponse('{"requestId":"r","registerDevice":{"deviceId":"d","registeredAt":7,"sessionId":"s"}}').payload,
    ).toEqual({
      kind: 'registerDevice',
      deviceId: 'd',
      registeredAt: 7,
      sessionId: 's',
    });
    const ev = decodeWsResponse(
      `{"requestId":"","messageId":"m1","decisionEvent":{"kyberCt":"${toBase64(new Uint8Array([1, 2]))}",` +
        '"nonce":"AAEC","ciphertext":[4,5]}}',
    );
    expect(ev.messageId).toBe('m1');
    expect(ev.payload).toEqual({
      kind: 'decisionEvent',
      kyberCt: new Uint8Array([1, 2]),
      nonce: new Uint8Array([0, 1, 2]),
      ciphertext: new Uint8Array([4, 5]),
    });
    expect(
      decodeWsResponse(
        '{"requestId":"r","status":"ERROR","error":{"code":"INVALID_SIGNATURE","message":"bad","retryable":false}}',
      ),
    ).toMatchObject({
      status: 'ERROR',
      payload: { kind: 'error', code: 'INVALID_SIGNATURE', message: 'bad', retryable: false },
    });
    expect(decodeWsResponse('{"requestId":"r","error":{"code":3}}').payload).toMatchObject({ code: 'REPLAY_DETECTED' });
    expect(decodeWsResponse('{"requestId":"r","error":{"code":"WHAT"}}').payload).toMatchObject({
      code: 'UNKNOWN_WHAT',
    });
    expect(
      decodeWsResponse('{"requestId":"r","decisionOutcome":{"decisionId":"d","outcome":"REJECT"}}').payload,
    ).toEqual({ kind: 'decisionOutcome', decisionId: 'd', outcome: 'REJECT' });
    expect(decodeWsResponse('{"requestId":"r","decisionRouted":{"decisionId":"d"}}').payload).toEqual({
      kind: 'decisionRouted',
      decisionId: 'd',
    });
  });

  it('refuses malformed frames with a PROTOCOL error', () => {
    for (const bad of [
      'not json',
      '[]',
      '{"requestId":5}',
      '{"requestId":"r","authenticate":{},"error":{}}',
      '{"requestId":"r","decisionEvent":{"kyberCt":"!!","nonce":"","ciphertext":""}}',
      '{"requestId":"r","decisionOutcome":{"decisionId":"d","outcome":"MAYBE"}}',
      '{"requestId":"r","authenticate":{"requiresRegistration":"yes"}}',
    ]) {
      expect(() => decodeWsResponse(bad), bad).toThrowError(expect.objectContaining({ code: 'PROTOCOL' }));
    }
  });
});

describe('gRPC mapping (noxy.device proto)', () => {
  it('maps requests to proto and survives a binary round trip', () => {
    const payloads: RequestPayload[] = [
      { kind: 'authenticate', keys },
      {
        kind: 'registerDevice',
        keys,
        signature: sig,
        deviceType: 'desktop',
        identityType: 'user_id',
        identityId: 'u-1',
      },
      { kind: 'subscribeDecisions', subscribe: true },
      { kind: 'decisionAck', decisionId: 'd', receivedAt: 1 },
      { kind: 'decisionOutcome', decisionId: 'd', outcome: 'REJECT', receivedAt: 2 },
      { kind: 'revokeDevice', identityId: 'u-1', signature: sig },
      { kind: 'rotateDeviceKeys', newKeys: keys, signature: sig, identityType: 'email', identityId: 'a@b.co' },
    ];
    for (const p of payloads) {
      const proto = toProtoRequest(req(p));
      const back = device.DeviceRequest.decode(device.DeviceRequest.encode(proto).finish());
      expect(back.requestId).toBe('7d1c5f2e-1111-4222-8333-444455556666');
      expect(back.timestamp).toBe(1_760_000_000_000n);
      expect(back.nonce).toHaveLength(12);
      expect(back.sessionId).toBe('ses_1');
      expect(back.deviceId).toBe('dev_1');
      expect(back.payload?.$case).toBe(p.kind);
    }
  });

  it('puts wallets in wallet_address with an empty identity_id (docs/protocol.md §6)', () => {
    const wallet = '0x000000000000000000000000000000000000dEaD';
    const r = toProtoRequest(
      req({
        kind: 'registerDevice',
        keys,
        signature: sig,
        deviceType: 'desktop',
        identityType: 'wallet',
        identityId: wallet,
      }),
    );
    expect(r.payload).toMatchObject({
      $case: 'registerDevice',
      value: { walletAddress: wallet, identityId: '', identityType: device.IdentityType.IDENTITY_TYPE_WALLET },
    });
    const e = toProtoRequest(
      req({
        kind: 'registerDevice',
        keys,
        signature: sig,
        deviceType: 'desktop',
        identityType: 'email',
        identityId: 'a@b.co',
      }),
    );
    expect(e.payload).toMatchObject({
      value: { identityId: 'a@b.co', identityType: device.IdentityType.IDENTITY_TYPE_EMAIL },
    });
    expect((e.payload?.value as { walletAddress?: string } | undefined)?.walletAddress).toBeUndefined();
  });

  it('maps responses from proto, including error codes by name', () => {
    const base = { requestId: 'r', messageId: 'm', status: device.ResponseStatus.OK, timestamp: 9n };
    expect(
      fromProtoResponse({
        ...base,
        payload: {
          $case: 'decisionEvent',
          value: { kyberCt: Buffer.from([1]), nonce: Buffer.from([2]), ciphertext: Buffer.from([3]) },
        },
      }),
    ).toEqual({
      requestId: 'r',
      messageId: 'm',
      status: 'OK',
      timestamp: 9,
      payload: {
        kind: 'decisionEvent',
        kyberCt: new Uint8Array([1]),
        nonce: new Uint8Array([2]),
        ciphertext: new Uint8Array([3]),
      },
    });
    expect(
      fromProtoResponse({
        ...base,
        status: device.ResponseStatus.ERROR,
        payload: { $case: 'error', value: { code: device.ErrorCode.DEVICE_REVOKED, message: 'x', retryable: false } },
      }).payload,
    ).toEqual({ kind: 'error', code: 'DEVICE_REVOKED', message: 'x', retryable: false });
    expect(() =>
      fromProtoResponse({
        ...base,
        payload: {
          $case: 'decisionOutcome',
          value: { decisionId: 'd', outcome: device.DecisionOutcomeValue.UNRECOGNIZED },
        },
      }),
    ).toThrowError(/unknown decision outcome/);
  });
});
