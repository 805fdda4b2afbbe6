/**
 * Transient relay errors inside `sendDecision`: the device lookup (GetIdentityDevices) is retried
 * like RouteDecision — same codes, backoff, pushback and budget — and the whole send keeps to one
 * deadline, `timeouts.routeDecision`. Waits run on the virtual clock.
 */
import { status } from '@grpc/grpc-js';
import { createNoxyClient, type NoxyClient, type NoxyClientOptions } from '@noxy-approval/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentTestServer, ManualClock } from '@noxy-approval/testing';

const TOKEN = 'tok_lookup_retry_0123';
const ALICE = 'alice@example.com';
const rateLimited = (pushbackMs: number) => ({
  code: status.RESOURCE_EXHAUSTED,
  trailers: { 'grpc-retry-pushback-ms': String(pushbackMs), 'noxy-error': 'RATE_LIMITED' },
});

let server: AgentTestServer;
let clock: ManualClock;
const clients: NoxyClient[] = [];

function newClient(overrides: Partial<NoxyClientOptions> = {}): NoxyClient {
  const c = createNoxyClient({ endpoint: server.endpoint, authToken: TOKEN, kem: 'mlkem', clock, ...overrides });
  clients.push(c);
  return c;
}

beforeEach(async () => {
  clock = new ManualClock();
  server = await AgentTestServer.start({ now: clock.now });
  await server.addDevices(ALICE, 1);
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server.close();
});

const lookups = () => server.callsTo('GetIdentityDevices');
const routes = () => server.callsTo('RouteDecision');

describe('GetIdentityDevices inside sendDecision', () => {
  it('UNAVAILABLE once, then OK: one successful send, one decision stored, the same lookup resent', async () => {
    server.failNext('GetIdentityDevices', { code: status.UNAVAILABLE });
    const sent = await newClient().sendDecision(ALICE, { title: 't' });
    expect(sent.delivered).toBe(1);
    expect(lookups()).toHaveLength(2);
    expect(lookups()[1]!.request.requestId).toBe(lookups()[0]!.request.requestId);
    expect(routes()).toHaveLength(1);
    expect(server.stored.size).toBe(1);
    // One full-jitter backoff step, as for RouteDecision.
    expect(clock.sleeps).toHaveLength(1);
    expect(clock.sleeps[0]).toBeLessThanOrEqual(100);
  });

  it('RATE_LIMITED with pushback: retried once the pushback has passed (virtual time)', async () => {
    server.failNext('GetIdentityDevices', rateLimited(1500));
    const sent = await newClient().sendDecision(ALICE, { title: 't' });
    expect(sent.delivered).toBe(1);
    const [first, second] = lookups();
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(1500);
    expect(clock.sleeps).toEqual([1500]);
  });

  it('RATE_LIMITED on the lookup and on RouteDecision: each waits its pushback, inside the deadline', async () => {
    server.failNext('GetIdentityDevices', rateLimited(3000));
    server.failNext('RouteDecision', rateLimited(4000));
    const sent = await newClient().sendDecision(ALICE, { title: 't' });
    expect(sent.deliveries.map((d) => d.status)).toEqual(['delivered']);
    expect(clock.sleeps).toEqual([3000, 4000]);
    expect(routes()).toHaveLength(2);
    expect(new Set(routes().map((c) => c.request.requestId)).size).toBe(1);
  });

  it('a pushback ending at or past the deadline is not waited for: the send fails at once, RATE_LIMITED', async () => {
    server.failNext('GetIdentityDevices', rateLimited(2500));
    const client = newClient({ timeouts: { routeDecision: 2_000 } });
    await expect(client.sendDecision(ALICE, { title: 't' })).rejects.toMatchObject({
      code: 'RATE_LIMITED',
      retryAfterMs: 2500,
    });
    expect(clock.sleeps).toEqual([]);
    expect(lookups()).toHaveLength(1);
    expect(routes()).toHaveLength(0);
  });

  it('the deadline is shared: time spent on the lookup is not there for RouteDecision', async () => {
    server.failNext('GetIdentityDevices', rateLimited(1500));
    server.failNext('RouteDecision', rateLimited(1000));
    const sent = await newClient({ timeouts: { routeDecision: 2_000 } }).sendDecision(ALICE, { title: 't' });
    // 1500 ms used by the lookup: a 1000 ms wait would end past the 2000 ms budget.
    expect(clock.sleeps).toEqual([1500]);
    expect(sent.deliveries[0]).toMatchObject({ status: 'failed', error: { code: 'RATE_LIMITED' } });
    expect(routes()).toHaveLength(1);
  });

  it('every lookup attempt gets at most the time left in the send (real time, 400 ms budget)', async () => {
    server.delay('GetIdentityDevices', 3_000);
    const client = createNoxyClient({
      endpoint: server.endpoint,
      authToken: TOKEN,
      kem: 'mlkem',
      timeouts: { routeDecision: 400, other: 5_000 },
    });
    clients.push(client);
    const t = performance.now();
    await expect(client.sendDecision(ALICE, { title: 't' })).rejects.toMatchObject({ code: 'RELAY_UNAVAILABLE' });
    expect(performance.now() - t).toBeLessThan(1_500);
    expect(lookups()).toHaveLength(1);
  });

  it('non-retryable lookup errors are not retried', async () => {
    server.failNext('GetIdentityDevices', { code: status.UNAUTHENTICATED }, 10);
    await expect(newClient().sendDecision(ALICE, { title: 't' })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(lookups()).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('a lookup failing every time gives up after 4 attempts with RELAY_UNAVAILABLE, nothing routed', async () => {
    server.failNext('GetIdentityDevices', { code: status.UNAVAILABLE }, 100);
    await expect(newClient().sendDecision(ALICE, { title: 't' })).rejects.toMatchObject({
      code: 'RELAY_UNAVAILABLE',
      retryable: true,
    });
    expect(lookups()).toHaveLength(4);
    expect(routes()).toHaveLength(0);
  });

  it('the lookup draws on the same retry budget as RouteDecision', async () => {
    const client = newClient();
    // 4 failed RouteDecisions spend 4 of the 10 tokens (retries only while more than 5 are left).
    server.failNext('RouteDecision', { code: status.UNAVAILABLE }, 4);
    expect((await client.sendDecision(ALICE, { title: 'first' })).delivered).toBe(0);
    expect(routes()).toHaveLength(4);
    // The next failure leaves 5 tokens: the lookup is not retried.
    server.failNext('GetIdentityDevices', { code: status.UNAVAILABLE });
    await expect(client.sendDecision(ALICE, { title: 'second' })).rejects.toMatchObject({ code: 'RELAY_UNAVAILABLE' });
    expect(lookups()).toHaveLength(2);
  });

  it('getIdentityDevices() retries a transient failure too', async () => {
    server.failNext('GetIdentityDevices', { code: status.UNAVAILABLE });
    await expect(newClient().getIdentityDevices(ALICE)).resolves.toHaveLength(1);
    expect(lookups()).toHaveLength(2);
  });
});
