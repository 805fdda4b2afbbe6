import { status } from '@grpc/grpc-js';
import { createNoxyClient, NoxyError, type NoxyClient } from '@noxy-approval/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentTestServer, ManualClock as AutoClock } from '@noxy-approval/testing';

const TOKEN = 'tok_retry_0123456789';
const ALICE = 'alice@example.com';

let server: AgentTestServer;
let client: NoxyClient;
let clock: AutoClock;

beforeEach(async () => {
  clock = new AutoClock();
  server = await AgentTestServer.start({ now: () => clock.now() });
  await server.addDevices(ALICE, 1);
  client = createNoxyClient({ endpoint: server.endpoint, authToken: TOKEN, clock });
});

afterEach(async () => {
  client.close();
  await server.close();
});

const routes = () => server.callsTo('RouteDecision');

describe('RouteDecision retries', () => {
  it('UNAVAILABLE twice then OK: 3 calls with the same request_id and decision_id, delivered once', async () => {
    server.failNext('RouteDecision', { code: status.UNAVAILABLE }, 2);
    const sent = await client.sendDecision(ALICE, { title: 't' });
    expect(sent.deliveries[0]).toMatchObject({ status: 'delivered' });
    expect(routes()).toHaveLength(3);
    expect(new Set(routes().map((c) => c.request.requestId)).size).toBe(1);
    expect(routes().every((c) => c.request.decisionId === sent.decisionId)).toBe(true);
    // The very same envelope is resent: the relay can deduplicate it byte for byte.
    expect(new Set(routes().map((c) => Buffer.from(c.request.kyberCt as Buffer).toString('hex'))).size).toBe(1);
    expect(server.stored.size).toBe(1);
    // Full-jitter backoff below the 100 ms · 2^n schedule.
    expect(clock.sleeps).toHaveLength(2);
    expect(clock.sleeps[0]).toBeLessThanOrEqual(100);
    expect(clock.sleeps[1]).toBeLessThanOrEqual(200);
  });

  it('DEADLINE_EXCEEDED, UNKNOWN and rate-limit RESOURCE_EXHAUSTED are retried too', async () => {
    server.failNext('RouteDecision', { code: status.DEADLINE_EXCEEDED });
    server.failNext('RouteDecision', { code: status.UNKNOWN });
    server.failNext('RouteDecision', { code: status.RESOURCE_EXHAUSTED, trailers: { 'noxy-error': 'RATE_LIMITED' } });
    const sent = await client.sendDecision(ALICE, { title: 't' });
    expect(sent.delivered).toBe(1);
    expect(routes()).toHaveLength(4);
    expect(new Set(routes().map((c) => c.request.requestId)).size).toBe(1);
  });

  it('gives up after 4 attempts with a typed RELAY_UNAVAILABLE per device', async () => {
    server.failNext('RouteDecision', { code: status.UNAVAILABLE }, 100);
    const sent = await client.sendDecision(ALICE, { title: 't' });
    expect(routes()).toHaveLength(4);
    expect(sent.delivered).toBe(0);
    const error = sent.deliveries[0]!.error;
    expect(NoxyError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'RELAY_UNAVAILABLE', grpcCode: status.UNAVAILABLE, retryable: true });
  });

  it.each([
    [status.UNAUTHENTICATED, 'UNAUTHENTICATED'],
    [status.INVALID_ARGUMENT, 'INVALID_ARGUMENT'],
    [status.PERMISSION_DENIED, 'PERMISSION_DENIED'],
  ] as const)('non-retryable %s: one call, typed %s', async (code, noxyCode) => {
    server.failNext('RouteDecision', { code }, 10);
    const sent = await client.sendDecision(ALICE, { title: 't' });
    expect(routes()).toHaveLength(1);
    expect(sent.deliveries[0]).toMatchObject({
      status: 'failed',
      error: { name: 'NoxyError', code: noxyCode, grpcCode: code, retryable: false },
    });
    expect(clock.sleeps).toHaveLength(0);
    // The convenience method surfaces the relay's code, not a misleading NO_DEVICES.
    await expect(client.sendDecisionAndWaitForOutcome(ALICE, { title: 't' })).rejects.toMatchObject({ code: noxyCode });
    expect(routes()).toHaveLength(2);
  });

  it('honours grpc-retry-pushback-ms: the retry comes ≥ 1500 ms (virtual) later', async () => {
    server.failNext('RouteDecision', {
      code: status.RESOURCE_EXHAUSTED,
      trailers: { 'grpc-retry-pushback-ms': '1500', 'noxy-error': 'RATE_LIMITED' },
    });
    const sent = await client.sendDecision(ALICE, { title: 't' });
    expect(sent.delivered).toBe(1);
    const [first, second] = routes();
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(1500);
    expect(clock.sleeps).toEqual([1500]);
    expect(second!.request.requestId).toBe(first!.request.requestId);
  });

  it('pushback also applies to UNAVAILABLE', async () => {
    server.failNext('RouteDecision', { code: status.UNAVAILABLE, trailers: { 'grpc-retry-pushback-ms': '2500' } });
    await client.sendDecision(ALICE, { title: 't' });
    expect(clock.sleeps).toEqual([2500]);
    expect(routes()).toHaveLength(2);
  });

  it.each(['-1', 'soon', '1.5'])('grpc-retry-pushback-ms: %s means do not retry', async (value) => {
    server.failNext(
      'RouteDecision',
      { code: status.RESOURCE_EXHAUSTED, trailers: { 'grpc-retry-pushback-ms': value, 'noxy-error': 'RATE_LIMITED' } },
      10,
    );
    const sent = await client.sendDecision(ALICE, { title: 't' });
    expect(routes()).toHaveLength(1);
    expect(sent.deliveries[0]).toMatchObject({ status: 'failed', error: { code: 'RATE_LIMITED' } });
  });

  it('commit-then-drop: the retry gets the stored outcome; the relay holds one decision per request_id', async () => {
    await server.addDevices(ALICE, 2);
    server.failNext('RouteDecision', { code: status.UNAVAILABLE, commit: true }, 3);
    const sent = await client.sendDecision(ALICE, { title: 't' });
    expect(sent.delivered).toBe(3);
    expect(routes()).toHaveLength(6);
    const byRequest = new Map<unknown, number>();
    for (const c of routes()) byRequest.set(c.request.requestId, (byRequest.get(c.request.requestId) ?? 0) + 1);
    expect([...byRequest.values()]).toEqual([2, 2, 2]);
    expect(server.stored.size).toBe(3);
    expect([...server.stored.values()].every((r) => r.decisionId === sent.decisionId)).toBe(true);
  });

  it('an abort during the retry backoff ends the send at once with ABORTED, and nothing is resent', async () => {
    const c = createNoxyClient({ endpoint: server.endpoint, authToken: TOKEN });
    try {
      server.failNext('RouteDecision', { code: status.UNAVAILABLE, trailers: { 'grpc-retry-pushback-ms': '9000' } });
      const controller = new AbortController();
      const send = c.sendDecision(ALICE, { title: 't' }, { signal: controller.signal }).catch((e: unknown) => e);
      while (routes().length === 0) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 20));
      const t = performance.now();
      controller.abort();
      expect(await send).toMatchObject({ code: 'ABORTED' });
      expect(performance.now() - t).toBeLessThanOrEqual(150);
      await new Promise((r) => setTimeout(r, 100));
      expect(routes()).toHaveLength(1);
    } finally {
      c.close();
    }
  });

  it('a pushback beyond 10 s is not waited for: the send fails at once, without a retry', async () => {
    server.failNext('RouteDecision', { code: status.UNAVAILABLE, trailers: { 'grpc-retry-pushback-ms': '600000000' } });
    const t = performance.now();
    const sent = await client.sendDecision(ALICE, { title: 't' });
    expect(performance.now() - t).toBeLessThan(2_000);
    expect(sent.deliveries[0]).toMatchObject({
      status: 'failed',
      error: { code: 'RELAY_UNAVAILABLE', retryAfterMs: 600000000 },
    });
    expect(routes()).toHaveLength(1);
  });

  it('a spent retry budget stops retries, so a dead relay is not hammered', async () => {
    server.failNext('RouteDecision', { code: status.UNAVAILABLE }, 1000);
    for (let i = 0; i < 10; i++) await client.sendDecision(ALICE, { title: `t${i}` });
    // 4 attempts for the first send, then the budget (10 tokens, retries only above 5) is spent
    // (each successful device lookup gives back 0.1 token: one more retry in the second send).
    expect(routes().length).toBeLessThanOrEqual(4 + 1 + 9);
    const afterFirst = routes().slice(4 + 2);
    expect(new Set(afterFirst.map((c) => c.request.requestId)).size).toBe(afterFirst.length);
  });
});

describe('status mapping', () => {
  it.each([
    [status.RESOURCE_EXHAUSTED, { 'noxy-error': 'QUOTA_EXHAUSTED' }, 'QUOTA_EXHAUSTED', false],
    [status.RESOURCE_EXHAUSTED, { 'noxy-error': 'RATE_LIMITED' }, 'RATE_LIMITED', true],
    [status.UNAUTHENTICATED, {}, 'UNAUTHENTICATED', false],
    [status.PERMISSION_DENIED, {}, 'PERMISSION_DENIED', false],
    [status.NOT_FOUND, {}, 'NOT_FOUND', false],
    [status.UNAVAILABLE, {}, 'RELAY_UNAVAILABLE', true],
    [status.UNKNOWN, {}, 'RELAY_ERROR', true],
    [status.INTERNAL, {}, 'RELAY_ERROR', false],
  ] as const)('gRPC %s %o → %s', async (code, trailers, noxyCode, retryable) => {
    server.failNext('GetQuota', { code, trailers });
    const err = await client.getQuota().catch((e: unknown) => e);
    expect(NoxyError.isInstance(err)).toBe(true);
    expect(err).toBeInstanceOf(NoxyError);
    expect(err).toMatchObject({ code: noxyCode, grpcCode: code, retryable });
    expect((err as Error).message).toContain('GetQuota');
    expect(server.callsTo('GetQuota')).toHaveLength(1);
  });

  it('a quota-exhausted RouteDecision is not retried and surfaces as QUOTA_EXHAUSTED', async () => {
    server.failNext(
      'RouteDecision',
      { code: status.RESOURCE_EXHAUSTED, trailers: { 'noxy-error': 'QUOTA_EXHAUSTED' } },
      10,
    );
    await expect(client.sendDecisionAndWaitForOutcome(ALICE, { title: 't' })).rejects.toMatchObject({
      code: 'QUOTA_EXHAUSTED',
    });
    expect(routes()).toHaveLength(1);
  });

  it('NoxyError.isInstance recognises an error from another copy of the package by its brand', () => {
    const foreign = Object.assign(new Error('from another copy'), {
      code: 'RATE_LIMITED',
      [Symbol.for('noxy-approval.error')]: true,
    });
    expect(foreign instanceof NoxyError).toBe(false);
    expect(NoxyError.isInstance(foreign)).toBe(true);
    expect(NoxyError.isInstance({ [Symbol.for('noxy-approval.error')]: true })).toBe(true);
    expect(NoxyError.isInstance(Object.assign(new Error('x'), { code: 'RATE_LIMITED' }))).toBe(false);
    expect(NoxyError.isInstance({ [Symbol('noxy-approval.error')]: true })).toBe(false);
    expect(NoxyError.isInstance(null)).toBe(false);
    expect(NoxyError.isInstance('NoxyError')).toBe(false);
  });
});
