/**
 * Matrix rows C9 (AbortSignal at random times in 1,000 waits) and C8 (the device offline during
 * the send, back later), against the real in-memory relay and the real clients.
 */
import { startLocalStack } from '@noxy-approval/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { clientLookup } from './lookup.js';
import { figure, Ledger, percentile, printReconciliation, seeded } from './reconciler.js';

const IDENTITY = 'alice@example.com';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('C9: AbortSignal at random times in 1,000 waits', () => {
  it('every wait rejects with ABORTED soon after its abort, and no timer is left behind', async () => {
    const stack = await startLocalStack({ devices: [{ answer: 'never' }] });
    cleanup.push(() => stack.close());
    const sent = await Promise.all(
      Array.from({ length: 20 }, (_, i) => stack.client.sendDecision(IDENTITY, { title: `C9 #${i}` })),
    );
    await sleep(50);
    const before = timeouts();
    const random = seeded(0xc9);
    const settle: number[] = [];
    const codes = new Map<string, number>();
    // 1,000 waits in 10 rounds of 100 (each round's waits on the same 20 pending decisions),
    // each aborted 0–150 ms after it starts: before its first poll, mid-poll, mid-hold, mid-backoff.
    for (let round = 0; round < 10; round++) {
      await Promise.all(
        Array.from({ length: 100 }, async (_, i) => {
          const d = sent[(round * 100 + i) % sent.length]!;
          const controller = new AbortController();
          const waiting = stack.client.waitForDecisionOutcome({
            decisionId: d.decisionId,
            identity: IDENTITY,
            expiresAt: d.expiresAt,
            signal: controller.signal,
          });
          await sleep(Math.floor(random() * 150));
          const abortedAt = performance.now();
          controller.abort();
          const code = await waiting.then(
            (r) => `resolved ${r.outcome}`,
            (e: { code?: string }) => String(e.code),
          );
          settle.push(performance.now() - abortedAt);
          codes.set(code, (codes.get(code) ?? 0) + 1);
        }),
      );
    }
    figure('C9', 'waits', settle.length, '1,000');
    figure('C9', 'results', JSON.stringify(Object.fromEntries(codes)), '{"ABORTED":1000}');
    figure(
      'C9',
      'abort → rejection',
      `p50 ${percentile(settle, 50).toFixed(1)} ms, p99 ${percentile(settle, 99).toFixed(1)} ms, ` +
        `max ${Math.max(...settle).toFixed(1)} ms`,
      '≤ 50 ms',
    );
    expect(Object.fromEntries(codes)).toEqual({ ABORTED: 1000 });
    // Bounded (a hang guard, not the performance figure above).
    expect(Math.max(...settle)).toBeLessThan(2_000);
    // Timers of the aborted waits (backoff sleeps, poll deadlines, hold watchdogs) are gone.
    for (let i = 0; i < 50 && timeouts() > before; i++) await sleep(10);
    figure('C9', 'timers left after the waits', Math.max(0, timeouts() - before), '0');
    expect(timeouts()).toBeLessThanOrEqual(before);
    // The relay held nothing for them (its held-call registry, docs/protocol.md §12).
    const relay = stack.relay as { heldCalls?: () => number };
    if (relay.heldCalls) {
      for (let i = 0; i < 50 && relay.heldCalls() > 0; i++) await sleep(10);
      figure('C9', 'calls the relay still holds', relay.heldCalls(), '0');
      expect(relay.heldCalls()).toBe(0);
    }
    const ledger = new Ledger();
    for (const s of sent) ledger.sent(s.decisionId, IDENTITY, s.expiresAt);
    const r = await ledger.reconcile(clientLookup(stack.client));
    printReconciliation('C9', r);
    expect(r).toMatchObject({ e1Missing: 0, e2Missing: 0, e3Flips: 0, e4Violations: 0, e5Late: 0 });
  });
});

describe('C8: the device is offline during the send and comes back later', () => {
  it('the decision is delivered after the reconnect, the outcome recorded once', async () => {
    const stack = await startLocalStack({ devices: [{ answer: 'never' }] });
    cleanup.push(() => stack.close());
    // The phone goes away (closed, not just idle): the relay queues what is sent meanwhile.
    stack.devices[0]!.close();
    for (let i = 0; i < 100 && stack.relay.liveDevices() > 0; i++) await sleep(10);
    const ledger = new Ledger();
    const sent = await stack.client.sendDecision(IDENTITY, { title: 'C8 while offline' });
    figure('C8', 'delivery while offline', sent.deliveries.map((d) => d.status).join(','), 'queued');
    expect(sent.deliveries.map((d) => d.status)).toEqual(['queued']);
    ledger.sent(sent.decisionId, IDENTITY, sent.expiresAt);
    const waiting = stack.client.waitForDecisionOutcome({
      decisionId: sent.decisionId,
      identity: IDENTITY,
      expiresAt: sent.expiresAt,
      onPoll: ({ outcome }) => ledger.observed(sent.decisionId, outcome),
    });
    // Offline for 1.5 s (the matrix's 30 s, shortened: the relay keeps the queue either way).
    await sleep(1_500);
    const back = await stack.newDevice(0);
    const shown: string[] = [];
    const answers: string[] = [];
    const reconnectedAt = performance.now();
    back.on('decision', (d) => {
      shown.push(d.decisionId);
      void back.decide(d.decisionId, 'approve').then((r) => {
        answers.push(r.outcome);
        ledger.acked(d.decisionId, r.outcome);
      });
    });
    await back.connect();
    const result = await waiting;
    figure('C8', 'reconnect → approved at the agent', `${(performance.now() - reconnectedAt).toFixed(0)} ms`);
    ledger.observed(sent.decisionId, result.outcome);
    ledger.act(sent.decisionId, result.outcome, Date.now());
    expect(result.outcome).toBe('approved');
    await sleep(200);
    expect(shown).toEqual([sent.decisionId]);
    expect(answers).toEqual(['approve']);
    const key = { appId: stack.appId, decisionId: sent.decisionId, identityId: IDENTITY };
    expect(stack.relay.store.decisions.getDecision(key)).toBeDefined();
    // Answering again (a second tap, a retried send) does not record a second outcome.
    const again = await back.decide(sent.decisionId, 'reject').catch((e: Error) => e);
    expect(again instanceof Error ? 'refused' : again.outcome).not.toBe('reject');
    const r = await ledger.reconcile(clientLookup(stack.client));
    printReconciliation('C8', r);
    expect(r).toEqual({ checked: 1, e1Missing: 0, e2Missing: 0, e3Flips: 0, e4Violations: 0, e5Late: 0 });
  });
});
