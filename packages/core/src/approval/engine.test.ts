import { describe, expect, it } from 'vitest';
import type { NoxyClient, SentDecision, WaitOptions } from '../client.js';
import { NoxyError } from '../errors.js';
import type { WaitResult } from '../wait.js';
import { createApprovalEngine } from './engine.js';

const identity = 'alice@example.com';
const input = { tool: 'transfer_funds', args: { to: 'bob', amount: 25 }, title: 'Send 25 to Bob' };

/** A client double: sends take `sendMs` of (fake) time, waits return `outcome`. */
function fakeClient(
  opts: { outcome?: WaitResult['outcome']; sendMs?: number; ttlSeconds?: number; fail?: NoxyError } = {},
) {
  let now = 1_000_000;
  const waits: WaitOptions[] = [];
  const sends: { decision: object; ttlSeconds: number | undefined }[] = [];
  const client = {
    ttlSeconds: opts.ttlSeconds ?? 600,
    async sendDecision(_id: unknown, decision: object, o: { decisionId?: string; ttlSeconds?: number } = {}) {
      sends.push({ decision, ttlSeconds: o.ttlSeconds });
      now += opts.sendMs ?? 0;
      const deliveries = opts.fail
        ? [{ deviceId: 'd1', status: 'failed' as const, error: opts.fail }]
        : [{ deviceId: 'd1', status: 'delivered' as const }];
      return {
        decisionId: o.decisionId!,
        identity: { type: 'email', id: identity },
        expiresAt: now + 600_000,
        ttlSeconds: 600,
        deliveries,
        delivered: opts.fail ? 0 : 1,
      } satisfies SentDecision;
    },
    async waitForDecisionOutcome(o: WaitOptions): Promise<WaitResult> {
      waits.push(o);
      return { outcome: opts.outcome ?? 'approved', decisionId: o.decisionId, polls: 1, observedAt: now };
    },
  } as unknown as NoxyClient;
  const clock = { now: () => now, sleep: async () => undefined };
  return { client, clock, waits, sends };
}

describe('approval engine', () => {
  it('counts the time spent sending against the hold, so the whole call stays within it', async () => {
    const f = fakeClient({ sendMs: 3_000, outcome: 'pending' });
    const engine = createApprovalEngine({ client: f.client, clock: f.clock });
    const r = await engine.requestApproval(input, { identity, holdMs: 45_000 });
    expect(r.outcome).toBe('pending');
    expect(f.waits[0]!.maxWaitMs).toBe(42_000);
  });

  it("uses the client's TTL unless told otherwise, and refuses a bad one", async () => {
    const f = fakeClient({ ttlSeconds: 60 });
    await createApprovalEngine({ client: f.client, clock: f.clock }).requestApproval(input, { identity });
    expect(f.sends[0]!.ttlSeconds).toBe(60);
    expect(() => createApprovalEngine({ client: f.client, ttlSeconds: Number.NaN })).toThrow(/ttlSeconds/);
  });

  it('reports an approval once; a later check says it was already reported', async () => {
    const f = fakeClient({ outcome: 'approved' });
    const engine = createApprovalEngine({ client: f.client, clock: f.clock });
    const first = await engine.requestApproval(input, { identity });
    expect(first.alreadyReported).toBeUndefined();
    const again = await engine.checkApproval({ decision_id: first.decisionId }, { identity });
    expect(again).toMatchObject({ outcome: 'approved', alreadyReported: true });
    expect(again.message).toContain('do not perform the action again');
    expect(f.waits).toHaveLength(1); // the check did not ask the relay again
  });

  it('refuses a top-level "__proto__" argument instead of silently dropping it', async () => {
    const f = fakeClient();
    const engine = createApprovalEngine({ client: f.client, clock: f.clock });
    const args = JSON.parse('{"cmd":"ls","__proto__":{"cmd":"rm -rf /"}}') as Record<string, unknown>;
    await expect(engine.requestApproval({ ...input, args }, { identity })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'args',
    });
    expect(f.sends).toHaveLength(0);
  });

  it("keeps the relay's reason when no device got the request", async () => {
    const f = fakeClient({ fail: new NoxyError('QUOTA_EXHAUSTED', 'RouteDecision failed: quota') });
    const engine = createApprovalEngine({ client: f.client, clock: f.clock });
    await expect(engine.requestApproval(input, { identity })).rejects.toMatchObject({ code: 'QUOTA_EXHAUSTED' });
  });

  it('refuses a check for another identity exactly like an unknown id', async () => {
    const f = fakeClient({ outcome: 'pending' });
    const engine = createApprovalEngine({ client: f.client, clock: f.clock });
    const r = await engine.requestApproval(input, { identity, holdMs: 1 });
    await expect(
      engine.checkApproval({ decision_id: r.decisionId }, { identity: 'mallory@example.com' }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
