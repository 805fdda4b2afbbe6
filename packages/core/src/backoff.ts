/**
 * Backoff schedules for polling and retries (docs/protocol.md §4.2).
 *
 * `delay(n) = min(cap, initial · multiplier^n) · (1 − jitter · U[0,1))`
 *
 * jitter = 1 is AWS "full jitter"; the poll default is 0.5 with a 1.6 s cap. Why not full
 * jitter at 2 s: with sleeps uniform on (0, c) the poll rate is 2/c and the 95th percentile of
 * the detection lag is ≈ 0.78·c, so ≤ 1 poll/s (c ≥ 2 s) forces a p95 lag ≥ 1.55 s. Sleeps
 * uniform on (0.8, 1.6) s give ≈ 0.83 polls/s with a median lag ≈ 0.6 s and p95 ≈ 1.3 s,
 * and still spread a thousand waits apart (`npm run bench` prints all three schedules).
 * @module
 */

/** Parameters of an exponential backoff. */
export interface BackoffPolicy {
  /** First delay (before jitter), ms. */
  initialMs: number;
  /** Cap of the un-jittered delay, ms. */
  maxMs: number;
  /** Growth factor per step (≥ 1). */
  multiplier: number;
  /** Fraction of the delay that is random: 0 = none, 1 = full jitter. */
  jitter: number;
}

/** The polling schedule used by `waitForDecisionOutcome`. */
export const POLL_BACKOFF: Readonly<BackoffPolicy> = Object.freeze({
  initialMs: 250,
  maxMs: 1600,
  multiplier: 2,
  jitter: 0.5,
});

/** The retry schedule of RouteDecision (full jitter, docs/protocol.md §4.2, §4.4). */
export const RETRY_BACKOFF: Readonly<BackoffPolicy> = Object.freeze({
  initialMs: 100,
  maxMs: 2000,
  multiplier: 2,
  jitter: 1,
});

/**
 * The delay before attempt `step + 1`.
 * @param step 0 for the first delay
 * @param random a uniform [0, 1) source (injectable for tests)
 */
export function backoffDelay(policy: BackoffPolicy, step: number, random: () => number = Math.random): number {
  // No clamp on `step`: with a slow multiplier (e.g. 1.01) the cap is reached only after more than
  // 64 steps. Overflow is harmless (Infinity → the cap); 0 · Infinity (initialMs 0) is 0.
  const grown = policy.initialMs * policy.multiplier ** step;
  const base = Math.min(policy.maxMs, Number.isNaN(grown) ? 0 : grown);
  return base * (1 - policy.jitter * random());
}
