/**
 * Matrix rows C2, C3, C4, C6 (the reliability bar's "faults survived"): the real agent client
 * against the real relay, through the TCP fault proxy (packages/testing fault-proxy.ts) or the
 * relay's test-only Agent API fault hooks (packages/relay faults.ts). Each row prints its figures
 * and ends with the reconciler (E1–E5).
 */
import { createNoxyClient, type NoxyClient } from '@noxy-approval/core';
import type { AgentFault } from '@noxy-approval/relay';
import { startFaultProxy, startLocalStack, type FaultProxy, type LocalStack } from '@noxy-approval/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { clientLookup } from './lookup.js';
import { figure, Ledger, printReconciliation, seeded } from './reconciler.js';

const IDENTITY = 'alice@example.com';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** A stack whose Agent API faults are whatever `plan.current` says at each call. */
async function faultyStack(answer: 'approve' | 'never' = 'never') {
  const plan: { current: (method: string, index: number) => AgentFault | undefined } = { current: () => undefined };
  const stack = await startLocalStack({
    devices: [{ answer }],
    // 200 sends at once are ~400 calls in a second: above the default 200/s per app, and the
    // rate limit is not what these rows are about.
    relay: { faults: { agent: (m, i) => plan.current(m, i) }, rateLimits: { agentPerSecond: 5_000 } },
  });
  cleanup.push(() => stack.close());
  return { stack, plan };
}

function relayTarget(stack: LocalStack) {
  const url = new URL(stack.relay.grpcUrl);
  return { host: url.hostname, port: Number(url.port) };
}

async function storedOnce(stack: LocalStack, decisionIds: readonly string[]): Promise<number> {
  let bad = 0;
  for (const decisionId of decisionIds) {
    const key = { appId: stack.appId, decisionId, identityId: IDENTITY };
    const stored = stack.relay.store.decisions.getDecision(key);
    const deliveries = stack.relay.store.decisions.deliveriesOf(key);
    if (!stored || deliveries.length !== 1) {
      bad++;
      process.stdout.write(`not once: ${decisionId} stored ${stored !== undefined}, ${deliveries.length} deliveries\n`);
    }
  }
  return bad;
}

describe('C2: a relay that accepts TCP and never answers (blackhole after accept)', () => {
  it('every RPC fails within its deadline + 100 ms, and nothing stays open after close', async () => {
    const { stack } = await faultyStack();
    const proxy = await startFaultProxy({ target: relayTarget(stack), toxics: { blackhole: true } });
    const TIMEOUT = 300;
    const client = createNoxyClient({
      endpoint: proxy.endpoint,
      authToken: stack.appToken,
      timeouts: { routeDecision: TIMEOUT, getDecisionOutcome: TIMEOUT, other: TIMEOUT },
    });
    const timed = async (run: () => Promise<unknown>) => {
      const t = performance.now();
      const error = await run().then(
        () => undefined,
        (e: unknown) => e,
      );
      return { error, ms: performance.now() - t };
    };
    const results = await Promise.all([
      timed(() => client.getQuota()),
      timed(() => client.getIdentityDevices(IDENTITY)),
      timed(() => client.sendDecision(IDENTITY, { title: 'blackholed' })),
      timed(() => client.getDecisionOutcome({ decisionId: crypto.randomUUID(), identity: IDENTITY })),
    ]);
    const worst = Math.max(...results.map((r) => r.ms));
    figure('C2', 'slowest failure', `${worst.toFixed(0)} ms`, `≤ ${TIMEOUT + 100} ms`);
    for (const r of results) expect(r.error).toMatchObject({ name: 'NoxyError', code: 'RELAY_UNAVAILABLE' });
    // Bounded, not a performance figure: a hang would show as seconds (the send budget is 300 ms).
    expect(worst).toBeLessThan(TIMEOUT + 2_000);
    expect(proxy.accepted).toBeGreaterThan(0);
    client.close();
    await proxy.close();
    for (let i = 0; i < 50 && proxy.open > 0; i++) await sleep(10);
    figure('C2', 'sockets open after close', proxy.open, '0');
    expect(proxy.open).toBe(0);
    // Nothing was routed through the hole.
    expect(stack.relay.status().decisions.total).toBe(0);
  });
});

describe('C3: RST on 10 % of connections mid-RPC', () => {
  it('200 logical sends over 40 channels: all delivered, each stored exactly once, E1–E5 clean', async () => {
    const { stack } = await faultyStack();
    const random = seeded(0xc3);
    let connection = 0;
    // Every 10th connection, counted over all proxies, is reset 150–3000 bytes into its upstream
    // (inside the first RPCs: preface, lookup, the RouteDecision with its ~1.2 kB envelope).
    const plan = () => (connection++ % 10 === 3 ? { resetAfterBytes: 150 + Math.floor(random() * 2850) } : {});
    // grpc-js shares one connection per target between channels, so each client gets its own
    // proxy (its own port): 40 targets → ≥ 40 connections, and every reset forces a new one.
    const proxies: FaultProxy[] = [];
    const clients: NoxyClient[] = [];
    for (let i = 0; i < 40; i++) {
      const proxy = await startFaultProxy({ target: relayTarget(stack), toxics: plan });
      proxies.push(proxy);
      cleanup.push(() => proxy.close());
      const client = createNoxyClient({ endpoint: proxy.endpoint, authToken: stack.appToken, kem: 'mlkem' });
      clients.push(client);
      cleanup.push(() => client.close());
    }
    const ledger = new Ledger();
    const undelivered: string[] = [];
    const results = await Promise.allSettled(
      clients.flatMap((client, c) =>
        Array.from({ length: 5 }, async (_, i) => {
          const sent = await client.sendDecision(IDENTITY, { title: `C3 #${c}.${i}` });
          // delivered 0: the RouteDecision failed (per device); the send is reported, not delivered.
          if (sent.delivered === 0) {
            undelivered.push(sent.decisionId);
            throw sent.deliveries[0]?.error ?? new Error('no delivery');
          }
          ledger.sent(sent.decisionId, IDENTITY, sent.expiresAt);
          return sent;
        }),
      ),
    );
    const failed = results.filter((r) => r.status === 'rejected').map((r) => r.reason as { code?: string });
    const resets = proxies.reduce((n, p) => n + p.resets, 0);
    const accepted = proxies.reduce((n, p) => n + p.accepted, 0);
    const ids = ledger.decisionIds;
    figure('C3', 'connections reset mid-RPC', `${resets} of ${accepted}`);
    figure('C3', 'logical sends delivered', `${ids.length}/${results.length}`, '200/200');
    expect(resets).toBeGreaterThanOrEqual(4);
    // Whatever failed is reported, typed and retryable, never a silent loss.
    figure('C3', 'failed sends by code', JSON.stringify(failed.map((e) => e.code ?? String(e))));
    expect(failed.map((e) => e.code)).toEqual(failed.map(() => 'RELAY_UNAVAILABLE'));
    expect(ids.length + failed.length).toBe(200);
    expect(new Set(ids).size).toBe(ids.length);
    const notOnce = await storedOnce(stack, ids);
    figure('C3', 'delivered sends not stored exactly once', notOnce, '0');
    expect(notOnce).toBe(0);
    // A send that failed after the relay committed it leaves that decision stored (a retry with
    // the same decisionId finds it); anything else stored would be a duplicate.
    const orphans = undelivered.filter((decisionId) =>
      stack.relay.store.decisions.getDecision({ appId: stack.appId, decisionId, identityId: IDENTITY }),
    ).length;
    figure(
      'C3',
      'stored decisions',
      stack.relay.status().decisions.total,
      `delivered ${ids.length} + orphans ${orphans}`,
    );
    expect(stack.relay.status().decisions.total).toBe(ids.length + orphans);
    const r = await ledger.reconcile(clientLookup(stack.client));
    printReconciliation('C3', r);
    expect(r).toEqual({ checked: ids.length, e1Missing: 0, e2Missing: 0, e3Flips: 0, e4Violations: 0, e5Late: 0 });
    // The matrix's figure: every logical send delivered. A reset fails every call in flight on
    // the connection at once (five here); the retry budget counts that as one failure (core
    // retry.ts), where one token per call left 4–6 % of sends un-retried against a relay that is up.
    expect(ids.length).toBe(200);
  });
});

describe('C4: the relay commits RouteDecision, then drops the response', () => {
  it('20 sends, each first attempt dropped: the retry returns the same decision id, 1 stored, 1 event', async () => {
    const { stack, plan } = await faultyStack();
    const seen: string[] = [];
    // Even calls are committed and their response dropped; the odd ones are the retries.
    plan.current = (method, index) => {
      if (method !== 'routeDecision') return undefined;
      seen.push(method);
      return index % 2 === 0 ? { kind: 'dropResponse' } : undefined;
    };
    const ledger = new Ledger();
    for (let i = 0; i < 20; i++) {
      // A client per send: each dropped response costs one retry token (gRFC A6), and twenty in a
      // row would spend one client's budget — which is C6's subject, not this row's.
      const client = stack.newClient();
      const sent = await client.sendDecision(IDENTITY, { title: `C4 #${i}` });
      expect(sent.deliveries, JSON.stringify(sent.deliveries)).toHaveLength(1);
      expect(sent.delivered, JSON.stringify(sent.deliveries)).toBe(1);
      ledger.sent(sent.decisionId, IDENTITY, sent.expiresAt);
    }
    figure('C4', 'RouteDecision calls for 20 sends', seen.length, '40 (one drop + one retry each)');
    expect(seen).toHaveLength(40);
    expect(stack.relay.status().decisions.total).toBe(20);
    const notOnce = await storedOnce(stack, ledger.decisionIds);
    expect(notOnce).toBe(0);
    // The device was shown each decision once (relay dedup of the retried request).
    for (let i = 0; i < 200 && stack.received[0]!.length < 20; i++) await sleep(10);
    await sleep(100);
    const events = stack.received[0]!.map((d) => d.decisionId);
    const perDecision = Math.max(...ledger.decisionIds.map((id) => events.filter((e) => e === id).length));
    figure('C4', 'most events one device got for one decision', perDecision, '≤ 1');
    expect(new Set(events)).toEqual(new Set(ledger.decisionIds));
    expect(perDecision).toBe(1);
    plan.current = () => undefined;
    const r = await ledger.reconcile(clientLookup(stack.client));
    printReconciliation('C4', r);
    expect(r).toMatchObject({ checked: 20, e1Missing: 0, e2Missing: 0, e3Flips: 0, e4Violations: 0, e5Late: 0 });
  });
});

describe('C6: RESOURCE_EXHAUSTED with grpc-retry-pushback-ms, then 100 % failure', () => {
  it('the next attempt waits ≥ 1,500 ms; once the retry budget is spent, retries ≤ 10 % of calls', async () => {
    const { stack, plan } = await faultyStack();
    const attempts: number[] = [];
    plan.current = (method, index) => {
      if (method !== 'routeDecision') return undefined;
      attempts.push(performance.now());
      return index === 0 ? { kind: 'resourceExhausted', pushbackMs: 1_500 } : undefined;
    };
    const sent = await stack.client.sendDecision(IDENTITY, { title: 'C6 pushback' });
    expect(sent.delivered).toBe(1);
    expect(attempts).toHaveLength(2);
    const gap = attempts[1]! - attempts[0]!;
    figure('C6', 'retry after a 1,500 ms pushback', `${gap.toFixed(0)} ms`, '≥ 1,500 ms');
    // Timers never fire early; 1 ms covers the two clocks' rounding.
    expect(gap).toBeGreaterThanOrEqual(1_499);

    // 100 % failure: a fresh client (full retry budget), 60 sends one after another.
    const failing = stack.newClient({ timeouts: { routeDecision: 2_000, getDecisionOutcome: 2_000, other: 2_000 } });
    const perSend: number[] = [];
    plan.current = (method) => {
      if (method !== 'routeDecision') return undefined;
      perSend[perSend.length - 1]!++;
      return { kind: 'unavailable' };
    };
    const errors: string[] = [];
    for (let i = 0; i < 60; i++) {
      perSend.push(0);
      // A send reports a failed RouteDecision per device (the lookup succeeded).
      await failing.sendDecision(IDENTITY, { title: `C6 #${i}` }).then(
        (sent) =>
          errors.push(...sent.deliveries.map((d) => (d.status === 'failed' ? String(d.error?.code) : `${d.status}`))),
        (e: { code?: string }) => errors.push(String(e.code)),
      );
    }
    expect(new Set(errors)).toEqual(new Set(['RELAY_UNAVAILABLE']));
    const spent = perSend.indexOf(1);
    const after = perSend.slice(Math.max(0, spent));
    const retries = after.reduce((n, a) => n + a - 1, 0);
    figure('C6', 'sends until the retry budget was spent', spent);
    figure('C6', 'retries after that', `${retries} in ${after.length} calls`, '≤ 10 %');
    expect(spent).toBeGreaterThanOrEqual(1);
    expect(spent).toBeLessThanOrEqual(10);
    expect(retries).toBeLessThanOrEqual(after.length * 0.1);
    plan.current = () => undefined;
    const ledger = new Ledger();
    ledger.sent(sent.decisionId, IDENTITY, sent.expiresAt);
    const r = await ledger.reconcile(clientLookup(stack.client));
    printReconciliation('C6', r);
    expect(r.e1Missing + r.e2Missing + r.e3Flips + r.e4Violations + r.e5Late).toBe(0);
    // No decision of the failing phase was stored: every attempt was refused before the handler.
    expect(stack.relay.status().decisions.total).toBe(1);
  });
});
