/**
 * A `NoxyClient` double for core's own unit tests of the engine and the gate: sends take a
 * chosen amount of (fake) time, waits answer a scripted outcome at a scripted time, and every
 * call is recorded, so a test can assert "no relay call". Cross-package tests use the real
 * local relay instead (packages/testing). Not part of the published package.
 * @module
 */
import type { NoxyClient, SentDecision, WaitOptions } from '../client.js';
import type { Clock } from '../clock.js';
import type { NoxyError } from '../errors.js';
import type { DecisionOutcome } from '../outcome.js';
import type { WaitResult } from '../wait.js';

/** How the double behaves. */
export interface FakeClientOptions {
  outcome?: DecisionOutcome;
  /** Fake ms a send takes. */
  sendMs?: number;
  /** Fake ms a wait takes before it answers. */
  waitMs?: number;
  ttlSeconds?: number;
  /** Every device's delivery fails with this error. */
  fail?: NoxyError;
  /** The wait rejects with this error. */
  waitError?: Error;
}

/** The double, its clock and what it saw. */
export interface FakeClient {
  client: NoxyClient;
  clock: Clock & { advance(ms: number): void };
  waits: WaitOptions[];
  sends: { decision: Record<string, unknown>; ttlSeconds: number | undefined }[];
  /** Changes the scripted outcome for later waits. */
  answer(outcome: DecisionOutcome): void;
}

/** Creates the double (time starts at 1,000,000 ms). */
export function fakeClient(opts: FakeClientOptions = {}): FakeClient {
  let now = 1_000_000;
  let outcome = opts.outcome ?? 'approved';
  const waits: WaitOptions[] = [];
  const sends: FakeClient['sends'] = [];
  const client = {
    ttlSeconds: opts.ttlSeconds ?? 600,
    async sendDecision(
      _id: unknown,
      decision: Record<string, unknown>,
      o: { decisionId?: string; ttlSeconds?: number },
    ) {
      sends.push({ decision, ttlSeconds: o.ttlSeconds });
      now += opts.sendMs ?? 0;
      const deliveries = opts.fail
        ? [{ deviceId: 'd1', status: 'failed' as const, error: opts.fail }]
        : [{ deviceId: 'd1', status: 'delivered' as const }];
      return {
        decisionId: o.decisionId ?? 'none',
        identity: { type: 'email', id: 'alice@example.com' },
        expiresAt: now + 600_000,
        ttlSeconds: 600,
        deliveries,
        delivered: opts.fail ? 0 : 1,
      } satisfies SentDecision;
    },
    async waitForDecisionOutcome(o: WaitOptions): Promise<WaitResult> {
      waits.push(o);
      if (opts.waitError) throw opts.waitError;
      now += opts.waitMs ?? 0;
      return { outcome, decisionId: o.decisionId, polls: 1, observedAt: now };
    },
  } as unknown as NoxyClient;
  const clock = {
    now: () => now,
    sleep: async () => undefined,
    advance: (ms: number) => {
      now += ms;
    },
  };
  return { client, clock, waits, sends, answer: (o) => (outcome = o) };
}
