/**
 * Outcome detection lag: a simulated relay flips each decision to APPROVED at a random time
 * (uniform in 0–120 s); the real wait loop (`waitForOutcome`, with its scheduler) polls it on
 * a virtual clock. Over 200 waits we print the median and p95 lag (flip → observed) and the
 * polls per second of each wait, beside the official SDK schedule (400 ms × 1.6, cap 30 s,
 * no jitter) and plain full jitter capped at 2 s on the same flip times.
 * @module
 */
import type { Clock } from '@noxy-approval/core';
// Internals of core's wait loop, measured directly (not public API).
import { POLL_BACKOFF, type BackoffPolicy } from '../../packages/core/src/backoff.js';
import { PollScheduler } from '../../packages/core/src/poll-scheduler.js';
import { waitForOutcome } from '../../packages/core/src/wait.js';
import { median, quantile, report } from './report.js';

const OFFICIAL: BackoffPolicy = { initialMs: 400, maxMs: 30_000, multiplier: 1.6, jitter: 0 };
const FULL_JITTER_2S: BackoffPolicy = { initialMs: 250, maxMs: 2_000, multiplier: 2, jitter: 1 };

/** A clock whose sleeps complete at once by moving virtual time (one wait at a time). */
function virtualClock(): Clock & { t: number } {
  const clock = {
    t: 0,
    now: () => clock.t,
    sleep: async (ms: number) => {
      clock.t += Math.max(0, ms);
    },
  };
  return clock;
}

/** Deterministic uniform [0,1) source (mulberry32) so every schedule sees the same flips. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function simulate(policy: BackoffPolicy, flips: number[], seed: number) {
  const lags: number[] = [];
  const rates: number[] = [];
  const random = seeded(seed);
  for (const flip of flips) {
    const clock = virtualClock();
    const scheduler = new PollScheduler(1000, clock);
    const result = await waitForOutcome(
      { decisionId: 'bench', expiresAt: 600_000, policy, random },
      { clock, scheduler, poll: async () => (clock.now() >= flip ? 'approved' : 'pending') },
    );
    lags.push((result.observedAt - flip) / 1000);
    rates.push(result.polls / Math.max(1, result.observedAt / 1000));
  }
  const avgRate = rates.reduce((a, b) => a + b, 0) / rates.length;
  return { median: median(lags), p95: quantile(lags, 0.95), rate: avgRate };
}

/** Runs the detection-lag simulation. */
export async function benchDetectionLag(): Promise<void> {
  const rnd = seeded(42);
  const flips = Array.from({ length: 200 }, () => rnd() * 120_000);
  const ours = await simulate(POLL_BACKOFF, flips, 7);
  const official = await simulate(OFFICIAL, flips, 7);
  const full = await simulate(FULL_JITTER_2S, flips, 7);
  for (const [label, r] of [
    ['official 400ms×1.6 cap 30s', official],
    ['full jitter cap 2s', full],
  ] as const) {
    console.log(
      `      ${label}: median lag ${r.median.toFixed(2)} s, p95 ${r.p95.toFixed(2)} s, ` +
        `${r.rate.toFixed(2)} polls/s per wait`,
    );
  }
  report({
    name: 'outcome detection lag, median (200 waits, flips U(0,120 s))',
    value: ours.median,
    unit: 's',
    baseline: { label: 'official schedule', value: official.median },
    target: '≤ 0.75 s',
    ok: ours.median <= 0.75,
  });
  report({
    name: 'outcome detection lag, p95',
    value: ours.p95,
    unit: 's',
    baseline: { label: 'official schedule', value: official.p95 },
    target: '≤ 1.5 s',
    ok: ours.p95 <= 1.5,
  });
  report({
    name: 'polls per second per wait (mean)',
    value: ours.rate,
    unit: 'polls/s',
    baseline: { label: 'official schedule', value: official.rate },
    target: '≤ 1 poll/s',
    ok: ours.rate <= 1,
  });
}
