import { NoxyError } from '@noxy-approval/core/portable';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { reconnectDelay } from './backoff.js';
import { DeviceRelayError, Session } from './session.js';
import type { WireRequest } from './wire.js';

function fakeConnection() {
  const sent: WireRequest[] = [];
  let closed = false;
  return {
    sent,
    get closed() {
      return closed;
    },
    send: (r: WireRequest) => void sent.push(r),
    close: () => {
      closed = true;
    },
  };
}

describe('Session framing and matching', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] }));
  afterEach(() => vi.useRealTimers());

  const make = () => {
    const conn = fakeConnection();
    const session = new Session(conn, { appId: 'app_1', requestTimeoutMs: 5_000, now: () => 1_760_000_000_123 });
    return { conn, session };
  };

  it('frames every request with a UUID v4, app id, ms timestamp, 12 random nonce bytes, and ids once known', () => {
    const { session } = make();
    const a = session.frame({ kind: 'subscribeDecisions', subscribe: true });
    const b = session.frame({ kind: 'subscribeDecisions', subscribe: true });
    expect(a.requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a.requestId).not.toBe(b.requestId);
    expect(a.appId).toBe('app_1');
    expect(a.timestamp).toBe(1_760_000_000_123);
    expect(a.nonce).toHaveLength(12);
    expect(a.nonce).not.toEqual(b.nonce);
    expect(a).not.toHaveProperty('sessionId');
    session.setIds({ deviceId: 'dev', sessionId: 'ses' });
    expect(session.frame({ kind: 'subscribeDecisions', subscribe: true })).toMatchObject({
      deviceId: 'dev',
      sessionId: 'ses',
    });
  });

  it('resolves a request with the response carrying its request id, whatever the order', async () => {
    const { conn, session } = make();
    const p1 = session.request({ kind: 'decisionAck', decisionId: 'd1', receivedAt: 1 });
    const p2 = session.request({ kind: 'decisionAck', decisionId: 'd2', receivedAt: 1 });
    expect(
      session.handle({
        requestId: conn.sent[1]!.requestId,
        status: 'OK',
        timestamp: 0,
        payload: { kind: 'decisionAck', decisionId: 'd2' },
      }),
    ).toBeUndefined();
    expect(
      session.handle({
        requestId: conn.sent[0]!.requestId,
        status: 'OK',
        timestamp: 0,
        payload: { kind: 'decisionAck', decisionId: 'd1' },
      }),
    ).toBeUndefined();
    await expect(p1).resolves.toEqual({ kind: 'decisionAck', decisionId: 'd1' });
    await expect(p2).resolves.toEqual({ kind: 'decisionAck', decisionId: 'd2' });
    expect(session.pendingCount).toBe(0);
  });

  it('times out a request the relay never answers, and leaves no timer', async () => {
    const { session } = make();
    const p = session.request({ kind: 'subscribeDecisions', subscribe: true });
    const seen = expect(p).rejects.toMatchObject({
      code: 'RELAY_UNAVAILABLE',
      message: expect.stringMatching(/within 5000 ms/),
    });
    await vi.advanceTimersByTimeAsync(4_999);
    expect(session.pendingCount).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    await seen;
    expect(session.pendingCount).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects with the relay error, or a PROTOCOL error for a wrong answer kind', async () => {
    const { conn, session } = make();
    const p1 = session.request({
      kind: 'registerDevice',
      keys: { publicKey: new Uint8Array(32), pqPublicKey: new Uint8Array(1184) },
      signature: new Uint8Array(32),
      deviceType: 'desktop',
      identityType: 'email',
      identityId: 'a@b.co',
    });
    const p2 = session.request({ kind: 'subscribeDecisions', subscribe: true });
    session.handle({
      requestId: conn.sent[0]!.requestId,
      status: 'ERROR',
      timestamp: 0,
      payload: { kind: 'error', code: 'INVALID_SIGNATURE', message: 'no', retryable: false },
    });
    session.handle({
      requestId: conn.sent[1]!.requestId,
      status: 'OK',
      timestamp: 0,
      payload: { kind: 'decisionAck', decisionId: 'x' },
    });
    const e1 = await p1.catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(DeviceRelayError);
    expect(e1).toMatchObject({ code: 'UNAUTHENTICATED', relayCode: 'INVALID_SIGNATURE' });
    expect(NoxyError.isInstance(e1)).toBe(true);
    await expect(p2).rejects.toMatchObject({ code: 'PROTOCOL' });
  });

  it('returns unsolicited and unmatched responses to the owner', () => {
    const { session } = make();
    const event = {
      requestId: 'x',
      messageId: 'm',
      status: 'OK' as const,
      timestamp: 0,
      payload: { kind: 'decisionRouted' as const, decisionId: 'd' },
    };
    expect(session.handle(event)).toBe(event);
    const stray = {
      requestId: 'nobody',
      status: 'ERROR' as const,
      timestamp: 0,
      payload: { kind: 'error' as const, code: 'INTERNAL_ERROR' as const, message: '', retryable: true },
    };
    expect(session.handle(stray)).toBe(stray);
  });

  it('close() fails pending requests and refuses new ones', async () => {
    const { conn, session } = make();
    const p = session.request({ kind: 'subscribeDecisions', subscribe: true });
    session.close(new NoxyError('CLOSED', 'bye'));
    await expect(p).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(session.request({ kind: 'subscribeDecisions', subscribe: true })).rejects.toMatchObject({
      code: 'CLOSED',
    });
    expect(conn.closed).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('reconnectDelay', () => {
  it('grows exponentially with equal jitter and is capped at 30 s', () => {
    expect(reconnectDelay(0, {}, () => 0)).toBe(250);
    expect(reconnectDelay(0, {}, () => 0.999999)).toBe(500);
    expect(reconnectDelay(3, {}, () => 0)).toBe(2_000);
    expect(reconnectDelay(3, {}, () => 0.999999)).toBe(4_000);
    for (const attempt of [6, 7, 10, 100, 1e9]) {
      expect(reconnectDelay(attempt, {}, () => 0.999999)).toBe(30_000);
      expect(reconnectDelay(attempt, {}, () => 0)).toBe(15_000);
    }
    for (let a = 0; a < 50; a++) {
      const d = reconnectDelay(a);
      expect(d).toBeGreaterThanOrEqual(Math.min(30_000, 500 * 2 ** a) / 2);
      expect(d).toBeLessThanOrEqual(30_000);
    }
  });
});
