import { device } from '@noxy-approval/proto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decisionEventResponse, errorResponse } from './device-responses.js';
import { isJsonProblem, parseWsRequest, wsResponseJson } from './ws-json.js';

const envelope = {
  requestId: 'r1',
  appId: 'app_1',
  timestamp: 1_700_000_000_000,
  nonce: Buffer.alloc(12, 1).toString('base64'),
};
const parse = (payload: unknown, extra: object = {}) =>
  parseWsRequest(JSON.stringify({ ...envelope, ...extra, payload }));

describe('WebSocket JSON requests', () => {
  it('recognises every untagged payload shape of the browser SDK (docs/protocol.md §5.4)', () => {
    const keys = {
      publicKey: Buffer.alloc(32, 2).toString('base64'),
      pqPublicKey: Buffer.alloc(4, 3).toString('base64'),
    };
    const cases: Array<[unknown, string]> = [
      [{ devicePubkeys: keys }, 'authenticate'],
      [{ devicePubkeys: keys, walletAddress: '0xabc', signature: 'AAAA', type: 'browser' }, 'registerDevice'],
      [{ subscribe: true }, 'subscribeDecisions'],
      [{ messageId: 'd1', receivedAt: 5 }, 'decisionAck'],
      [{ decisionId: 'd1', receivedAt: 5 }, 'decisionAck'],
      [{ decisionId: 'd1', outcome: 'REJECT', receivedAt: 5 }, 'decisionOutcome'],
      [{ walletAddress: '0xabc', signature: 'AAAA' }, 'revokeDevice'],
      [{ newPubkeys: keys, walletAddress: '0xabc', signature: 'AAAA' }, 'rotateDeviceKeys'],
      [{ decisionAck: { decisionId: 'd2' } }, 'decisionAck'],
    ];
    for (const [payload, kind] of cases) {
      const r = parse(payload);
      if (isJsonProblem(r)) throw new Error(`${kind}: ${r.message}`);
      expect(r.payload?.$case).toBe(kind);
      expect(r).toMatchObject({ requestId: 'r1', appId: 'app_1', timestamp: 1_700_000_000_000n });
      expect(r.nonce).toHaveLength(12);
    }
    const ack = parse({ messageId: 'd9', receivedAt: 7 });
    expect(!isJsonProblem(ack) && ack.payload).toEqual({
      $case: 'decisionAck',
      value: { decisionId: 'd9', receivedAt: 7n },
    });
    const reg = parse({
      devicePubkeys: keys,
      identityType: 'phone',
      identityId: '+1555',
      signature: 'AAAA',
      type: 'browser',
    });
    expect(!isJsonProblem(reg) && reg.payload?.$case === 'registerDevice' && reg.payload.value.identityType).toBe(
      device.IdentityType.IDENTITY_TYPE_PHONE,
    );
  });

  it('names the field of a bad value', () => {
    expect(parse({ decisionId: 'd', outcome: 'MAYBE' })).toMatchObject({
      requestId: 'r1',
      message: expect.stringContaining('payload.outcome'),
    });
    expect(parse({ subscribe: 'yes' })).toMatchObject({ message: expect.stringContaining('payload.subscribe') });
    expect(parse({ subscribe: true }, { timestamp: -1 })).toMatchObject({
      message: expect.stringContaining('timestamp'),
    });
    expect(parse({ subscribe: true }, { nonce: '!!' })).toMatchObject({ message: expect.stringContaining('nonce') });
    expect(parseWsRequest('[]')).toMatchObject({ requestId: '', message: expect.stringContaining('object') });
    expect(parseWsRequest('{')).toMatchObject({ requestId: '', message: 'malformed JSON frame' });
  });

  it('never throws, whatever the frame (10,000 generated cases)', () => {
    const payloadish = fc.oneof(
      fc.json(),
      fc
        .record({ payload: fc.anything(), requestId: fc.anything(), nonce: fc.anything(), timestamp: fc.anything() })
        .map((o) => JSON.stringify(o)),
      fc.string(),
    );
    fc.assert(
      fc.property(payloadish, (text) => {
        const r = parseWsRequest(text);
        expect(typeof r).toBe('object');
      }),
      { numRuns: 10_000 },
    );
  });
});

describe('WebSocket JSON responses', () => {
  it('are oneof-tagged camelCase with base64 bytes, numeric uint64 and enum names', () => {
    const ev = JSON.parse(
      wsResponseJson(
        decisionEventResponse(
          'd1',
          { kyberCt: Buffer.from([1, 2]), nonce: Buffer.from([3]), ciphertext: Buffer.from([4]) },
          1234,
        ),
      ),
    );
    expect(ev).toEqual({
      requestId: '',
      messageId: 'd1',
      status: 'OK',
      timestamp: 1234,
      decisionEvent: { kyberCt: 'AQI=', nonce: 'Aw==', ciphertext: 'BA==' },
    });
    const err = JSON.parse(wsResponseJson(errorResponse('r2', device.ErrorCode.RATE_LIMITED, 'slow down', 5, true)));
    expect(err).toEqual({
      requestId: 'r2',
      status: 'ERROR',
      timestamp: 5,
      error: { code: 'RATE_LIMITED', message: 'slow down', retryable: true },
    });
  });
});
