/**
 * Reconnect delays: exponential with "equal jitter" — half the step is fixed, half random —
 * capped at about 30 s. The official SDKs use a fixed 1, 2, 4 … 30 s ladder (docs/protocol.md §5.11),
 * which makes every device of a restarted relay reconnect in lock-step; the jitter spreads
 * them, and the fixed half keeps a dead relay from being hammered by near-zero waits.
 * @module
 */

/** Options of {@link reconnectDelay}. */
export interface BackoffOptions {
  /** First step in ms (attempt 0). Default 500. */
  initialDelayMs?: number;
  /** Upper bound of a step in ms. Default 30,000. */
  maxDelayMs?: number;
  /** Growth per attempt. Default 2. */
  multiplier?: number;
}

/** The defaults of {@link BackoffOptions}. */
export const DEFAULT_BACKOFF: Required<BackoffOptions> = { initialDelayMs: 500, maxDelayMs: 30_000, multiplier: 2 };

/**
 * The wait before reconnect attempt `attempt` (0-based: the first retry after a failure).
 * Result is in `[step/2, step]` where `step = min(maxDelayMs, initialDelayMs · multiplier^attempt)`.
 * @param attempt number of failed attempts so far, minus one
 * @param random a uniform number in [0, 1); `Math.random` by default (not security relevant)
 */
export function reconnectDelay(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const { initialDelayMs, maxDelayMs, multiplier } = { ...DEFAULT_BACKOFF, ...options };
  // Clamp the exponent so large attempt counts cannot overflow to Infinity.
  const exp = Math.min(Math.max(0, Math.floor(attempt)), 64);
  const step = Math.min(maxDelayMs, initialDelayMs * multiplier ** exp);
  return Math.round(step / 2 + (step / 2) * random());
}
