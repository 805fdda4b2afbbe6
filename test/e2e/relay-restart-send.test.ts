/**
 * Against the REAL local relay (on-disk data folder, loopback, port chosen by the OS): a send that
 * starts while the relay is down and the relay comes back on the same port and data folder 300 ms
 * later succeeds, exactly once; and ids the client did not make (another agent's, non-UUID) poll.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNoxyClient, type NoxyClient } from '@noxy-approval/core';
import { createMemoryKeyStore, createNoxyDevice, type NoxyDevice } from '@noxy-approval/device';
import { silentLogger, startRelay, type Relay } from '@noxy-approval/relay';
import { RawAgent } from '@noxy-approval/testing';
import { afterEach, describe, expect, it } from 'vitest';

const IDENTITY = 'alice@example.com';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** A relay on a fresh data folder, one app, one paired gRPC device, and an agent client. */
async function stack() {
  const dataDir = await mkdtemp(join(tmpdir(), 'noxy-restart-send-'));
  cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
  const relays: Relay[] = [];
  cleanup.push(() => Promise.all(relays.map((r) => r.close())));
  const start = async (ports?: { grpcPort: number; httpPort: number }) => {
    const relay = await startRelay({ dataDir, logger: silentLogger, ...ports });
    relays.push(relay);
    return relay;
  };
  const first = await start();
  const app = first.createApp({ name: 'restart-send' });
  const device: NoxyDevice = await createNoxyDevice({
    relayUrl: first.grpcUrl,
    appId: app.appId,
    identity: IDENTITY,
    signingSecret: app.signingSecret,
    keyStore: createMemoryKeyStore(),
  });
  cleanup.push(() => device.close());
  await device.connect();
  const client: NoxyClient = createNoxyClient({ endpoint: first.grpcUrl, authToken: app.appToken, kem: 'mlkem' });
  cleanup.push(() => client.close());
  // The same port and data folder as the first relay: what a supervisor restarting it does.
  const restart = () => start({ grpcPort: first.grpcPort, httpPort: first.httpPort });
  return { first, app, device, client, restart };
}

describe('a send across a relay restart', () => {
  it.each([
    ['a client that has talked to the relay before', true],
    ['a client whose first call this is', false],
  ])('relay down at the start, back 300 ms later (%s): the send succeeds once', async (_name, warm) => {
    const { first, app, device, client, restart } = await stack();
    if (warm) await client.getQuota();
    const received: string[] = [];
    device.on('decision', (d) => void received.push(d.decisionId));
    await first.close();

    const t = performance.now();
    const sending = client.sendDecision(IDENTITY, { title: 'Deploy to production?' });
    await sleep(300);
    const second = await restart();
    const sent = await sending;
    const ms = performance.now() - t;

    expect(sent.deliveries.map((d) => d.status)).toEqual([expect.stringMatching(/^(delivered|queued)$/)]);
    expect(sent.delivered).toBe(1);
    expect(ms).toBeGreaterThanOrEqual(300);
    expect(ms).toBeLessThan(10_000); // timeouts.routeDecision, the budget of the whole send
    // Exactly one decision, with one delivery, on the relay.
    expect(second.status().decisions.total).toBe(1);
    const key = { appId: app.appId, decisionId: sent.decisionId, identityId: IDENTITY };
    expect(second.store.decisions.getDecision(key)).toBeDefined();
    expect(second.store.decisions.deliveriesOf(key)).toHaveLength(1);
    await expect(client.getDecisionOutcome({ decisionId: sent.decisionId, identity: IDENTITY })).resolves.toEqual({
      decisionId: sent.decisionId,
      outcome: 'pending',
      pending: true,
    });
    // The phone reconnects (its own backoff) and is shown the decision once.
    for (let waited = 0; received.length === 0 && waited < 8_000; waited += 20) await sleep(20);
    await sleep(100);
    expect(received).toEqual([sent.decisionId]);
  });

  it('20 sends in parallel while the relay restarts: all succeed, one decision each (budget not spent)', async () => {
    const { first, client, restart } = await stack();
    await client.getQuota();
    await first.close();
    const sending = Promise.all(
      Array.from({ length: 20 }, (_, i) => client.sendDecision(IDENTITY, { title: `#${i}` })),
    );
    await sleep(300);
    const second = await restart();
    const sent = await sending;
    expect(sent.map((s) => s.delivered)).toEqual(Array(20).fill(1));
    expect(new Set(sent.map((s) => s.decisionId)).size).toBe(20);
    expect(second.status().decisions.total).toBe(20);
  });
});

describe('polling ids this client did not make, against the real relay', () => {
  const OTHER_AGENT_ID = `relay-7f3c${'0123456789abcdef'.repeat(3).slice(0, 39)}`;

  it("another agent's decision under a non-UUID id is polled by that id; an unknown one is NOT_FOUND", async () => {
    const { first, app, device, client } = await stack();
    const deviceId = device.deviceId!;
    // Offline phone: the relay queues the (fake, undecryptable) envelope instead of pushing it.
    device.close();
    const other = new RawAgent(first.grpcUrl, app.appToken);
    cleanup.push(() => other.close());
    await other.route({ decisionId: OTHER_AGENT_ID, targetDeviceId: deviceId });
    expect(OTHER_AGENT_ID).toHaveLength(49);
    await expect(client.getDecisionOutcome({ decisionId: OTHER_AGENT_ID, identity: IDENTITY })).resolves.toEqual({
      decisionId: OTHER_AGENT_ID,
      outcome: 'pending',
      pending: true,
    });
    await expect(
      client.getDecisionOutcome({ decisionId: `${OTHER_AGENT_ID.slice(0, -1)}x`, identity: IDENTITY }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
