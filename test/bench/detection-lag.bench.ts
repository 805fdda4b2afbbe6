/**
 * Outcome detection lag. Each of 200 decisions is answered at a random time (uniform in
 * 0–120 s). With the wait hint (docs/protocol.md §12.3) the waits run for real against the
 * local relay (lag-hint.ts: two minutes of wall time). Without it, a simulated relay flips each
 * decision at the same times and the real wait loop (`waitForOutcome`, with its scheduler)
 * polls it on a virtual clock: today's schedule, the official SDK schedule (400 ms × 1.6, cap
 * 30 s, no jitter) and plain full jitter capped at 2 s. Printed: median and p95 lag (answer →
 * observed) and polls per second per wait, as the mean of each wait's rate and as all polls
 * over all wait-seconds.
 * @module
 */
import type { Clock } from '@noxy-approval/core';
// Internals of core's wait loop, measured directly (not public API).
import { POLL_BACKOFF, type BackoffPolicy } from '../../packages/core/src/backoff.js';
import { PollScheduler } from '../../packages/core/src/poll-scheduler.js';
import { waitForOutcome } from '../../packages/core/src/wait.js';
import { measureHinted } from './lag-hint.js';
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
  let polls = 0;
  let seconds = 0;
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
    polls += result.polls;
    seconds += result.observedAt / 1000;
  }
  const avgRate = rates.reduce((a, b) => a + b, 0) / rates.length;
  return { median: median(lags), p95: quantile(lags, 0.95), rate: avgRate, overall: polls / seconds };
}

/** Runs the detection-lag simulation. */
export async function benchDetectionLag(): Promise<void> {
  const rnd = seeded(42);
  const flips = Array.from({ length: 200 }, () => rnd() * 120_000);
  const ours = await simulate(POLL_BACKOFF, flips, 7);
  const official = await simulate(OFFICIAL, flips, 7);
  const full = await simulate(FULL_JITTER_2S, flips, 7);
  const run = await measureHinted(flips);
  const hinted = {
    median: median(run.lags),
    p95: quantile(run.lags, 0.95),
    rate: run.polls.reduce((a, p, i) => a + p / Math.max(1, run.durations[i]!), 0) / run.polls.length,
    overall: run.polls.reduce((a, b) => a + b, 0) / run.durations.reduce((a, b) => a + b, 0),
  };
  for (const [label, r] of [
    ['wait hint, local relay (real time)', hinted],
    ["today's schedule, no hint (simulated)", ours],
    ['official 400ms×1.6 cap 30s (simulated)', official],
    ['full jitter cap 2s (simulated)', full],
  ] as const) {
    console.log(
      `      ${label}: median lag ${(r.median * 1000).toFixed(1)} ms, p95 ${(r.p95 * 1000).toFixed(1)} ms, ` +
        `${r.rate.toFixed(3)} polls/s per wait (mean of waits), ${r.overall.toFixed(3)} (all polls / all wait-s)`,
    );
  }
  report({
    name: 'detection lag with the wait hint, median (local relay)',
    value: hinted.median * 1000,
    unit: 'ms',
    baseline: { label: "today's schedule", value: ours.median * 1000 },
    target: '≤ 20 ms',
    ok: hinted.median * 1000 <= 20,
  });
  report({
    name: 'detection lag with the wait hint, p95 (local relay)',
    value: hinted.p95 * 1000,
    unit: 'ms',
    baseline: { label: "today's schedule", value: ours.p95 * 1000 },
    target: '≤ 50 ms',
    ok: hinted.p95 * 1000 <= 50,
  });
  report({
    name: 'polls per second per wait with the wait hint (all polls / all wait-seconds)',
    value: hinted.overall,
    unit: 'polls/s',
    baseline: { label: "today's schedule", value: ours.overall },
    target: '≤ 0.1 poll/s',
    ok: hinted.overall <= 0.1,
  });
  report({
    name: "outcome detection lag without the hint, today's schedule, median (200 waits, answers U(0,120 s))",
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
