import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from './clock.js';
import { NoxyError } from './errors.js';
import { PollScheduler } from './poll-scheduler.js';
import { waitForOutcome, type WaitResult } from './wait.js';

beforeEach(() => {
  vi.useFakeTimers({ now: Date.UTC(2030, 0, 1) });
});
afterEach(() => {
  vi.useRealTimers();
});

interface Run {
  times: number[];
  results: WaitResult[];
}

/** `n` waits that never see a verdict share one scheduler; returns when they all ended. */
async function run(
  n: number,
  pollsPerSecond: number,
  options: { expiresInMs: number; maxWaitMs?: number },
): Promise<Run> {
  const scheduler = new PollScheduler(pollsPerSecond, systemClock);
  const start = Date.now();
  const times: number[] = [];
  // A seeded jitter source, so a run is reproducible.
  let seed = 0x2545f491;
  const random = () => {
    seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
    return seed / 2 ** 32;
  };
  const waits = Array.from({ length: n }, () =>
    waitForOutcome(
      {
        decisionId: 'd',
        expiresAt: start + options.expiresInMs,
        graceMs: 0,
        random,
        ...(options.maxWaitMs ? { maxWaitMs: options.maxWaitMs } : {}),
      },
      {
        clock: systemClock,
        scheduler,
        poll: async () => {
          times.push(Date.now() - start);
          return 'pending';
        },
      },
    ),
  );
  await vi.advanceTimersByTimeAsync(options.expiresInMs + 120_000);
  return { times, results: await Promise.all(waits) };
}

function perSecond(times: number[]): number[] {
  const counts: number[] = [];
  for (const t of times) counts[Math.floor(t / 1000)] = (counts[Math.floor(t / 1000)] ?? 0) + 1;
  return Array.from(counts, (c) => c ?? 0);
}

describe('PollScheduler: one poll budget for all waits of a client', () => {
  it.each([
    [50, 10],
    [200, 20],
    [1_000, 20],
    [5, 2],
  ])(
    '%i concurrent waits at %i polls/s: ≤ pollsPerSecond polls in every virtual second after the first',
    async (n, pps) => {
      const { times, results } = await run(n, pps, { expiresInMs: 30_000 });
      expect(results.every((r) => r.outcome === 'expired')).toBe(true);
      const counts = perSecond(times);
      for (const [second, count] of counts.entries()) {
        // The bucket starts full (burst = pollsPerSecond), like the relay's own limiter: the first
        // second may carry the burst plus the refill, never more.
        expect(count, `second ${second}`).toBeLessThanOrEqual(second === 0 ? 2 * pps - 1 : pps);
      }
      // Token-bucket conformance at every instant: polls by time t ≤ burst + pps · t.
      for (const [i, t] of times.entries()) expect(i + 1).toBeLessThanOrEqual(pps + (pps * t) / 1000 + 1e-9);
      // And the budget is used: waits are not starved while the budget is oversubscribed.
      if (n / 1.6 > pps) expect(counts.slice(1, 30).every((c) => c >= pps - 1)).toBe(true);
    },
  );

  it('an oversubscribed budget does not stretch a wait past its maxWaitMs (pending at the limit)', async () => {
    const { results } = await run(100, 5, { expiresInMs: 600_000, maxWaitMs: 10_000 });
    const start = Date.UTC(2030, 0, 1);
    for (const r of results) {
      expect(r.outcome).toBe('pending');
      expect(r.observedAt - start).toBeLessThanOrEqual(10_000 + 1); // + timer granularity (1 ms)
    }
  });

  it('the decision deadline is never cut short by the budget: `expired` only after expiresAt', async () => {
    const { results } = await run(100, 5, { expiresInMs: 10_000 });
    const start = Date.UTC(2030, 0, 1);
    for (const r of results) {
      expect(r.outcome).toBe('expired');
      expect(r.observedAt - start).toBeGreaterThanOrEqual(10_000);
    }
  });

  it('an aborted waiter leaves the queue at once; the others are served in order', async () => {
    const scheduler = new PollScheduler(1, systemClock);
    await scheduler.acquire();
    const order: string[] = [];
    const controller = new AbortController();
    const a = scheduler.acquire().then(() => order.push('a'));
    const b = scheduler.acquire(controller.signal).then(
      () => order.push('b'),
      (e: unknown) => order.push(`b:${(e as NoxyError).code}`),
    );
    const c = scheduler.acquire().then(() => order.push('c'));
    controller.abort();
    await vi.advanceTimersByTimeAsync(0);
    expect(order).toEqual(['b:ABORTED']);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(order).toEqual(['b:ABORTED', 'a']);
    await vi.advanceTimersByTimeAsync(1_000);
    await Promise.all([a, b, c]);
    expect(order).toEqual(['b:ABORTED', 'a', 'c']);
  });

  it('an already-aborted signal is refused without taking a token', async () => {
    const scheduler = new PollScheduler(1, systemClock);
    await expect(scheduler.acquire(AbortSignal.abort())).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(scheduler.acquire()).resolves.toBeUndefined();
  });

  it('close() rejects every queued waiter with its reason', async () => {
    const scheduler = new PollScheduler(1, systemClock);
    await scheduler.acquire();
    const queued = [scheduler.acquire(), scheduler.acquire()].map((p) => p.catch((e: unknown) => e));
    scheduler.close(new NoxyError('CLOSED', 'closed'));
    for (const e of await Promise.all(queued)) expect(e).toMatchObject({ code: 'CLOSED' });
  });

  it('aborting 100 waits leaves no timer behind', async () => {
    const scheduler = new PollScheduler(10, systemClock);
    const controllers = Array.from({ length: 100 }, () => new AbortController());
    const waits = controllers.map((c) =>
      waitForOutcome(
        { decisionId: 'd', expiresAt: Date.now() + 600_000, signal: c.signal },
        { clock: systemClock, scheduler, poll: async () => 'pending' },
      ).catch((e: unknown) => e),
    );
    await vi.advanceTimersByTimeAsync(3_000);
    for (const c of controllers) c.abort();
    for (const e of await Promise.all(waits)) expect(e).toMatchObject({ code: 'ABORTED' });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(vi.getTimerCount()).toBe(0);
  });
});
