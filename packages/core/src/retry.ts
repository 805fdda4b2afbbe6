/**
 * Retries of the calls inside a send, GetIdentityDevices and RouteDecision (docs/protocol.md
 * §4.4): the SAME request is resent (same request_id and decision_id, so the
 * relay can deduplicate) on UNAVAILABLE, DEADLINE_EXCEEDED, rate-limit RESOURCE_EXHAUSTED and
 * UNKNOWN, with full-jitter backoff, honouring `grpc-retry-pushback-ms`, within the call's
 * deadline, and within a per-client retry budget modelled on gRFC A6 throttling (10 tokens, +0.1
 * per success, −1 per failure — calls cut by one event count once —, no retries at or below half), so a
 * dead relay is not hammered.
 * @module
 */
import { backoffDelay, RETRY_BACKOFF, type BackoffPolicy } from './backoff.js';
import type { Clock } from './clock.js';
import { NoxyError } from './errors.js';

/** Longest server pushback honoured before a retry, ms. */
export const MAX_PUSHBACK_MS = 10_000;

/**
 * gRFC A6 retry throttling state, one per client: 10 tokens, +0.1 per success, −1 per failure,
 * no retries at or below half. One difference from A6: an attempt that was already in flight
 * when the last charged failure happened costs nothing more — one event (a connection reset fails
 * every call in flight on it) is one failure, or five calls cut by one reset would spend half
 * the budget at once and leave sends un-retried against a relay that is up (matrix row C3).
 * Attempts started after a failure pay for their own, so a relay that keeps failing drains the
 * budget as in A6 (row C6).
 */
export class RetryBudget {
  #tokens: number;
  /** Failures charged so far: an attempt remembers the count it began at. */
  #charges = 0;
  constructor(
    private readonly maxTokens = 10,
    private readonly tokenRatio = 0.1,
  ) {
    this.#tokens = maxTokens;
  }
  /** Marks the start of an attempt; pass the result to {@link RetryBudget.failure}. */
  begin(): number {
    return this.#charges;
  }
  /** Records a successful call. */
  success(): void {
    this.#tokens = Math.min(this.maxTokens, this.#tokens + this.tokenRatio);
  }
  /**
   * Records a failed attempt; returns whether a retry is still allowed.
   * @param began what {@link RetryBudget.begin} returned when the attempt started
   */
  failure(began: number): boolean {
    if (began === this.#charges) {
      this.#tokens = Math.max(0, this.#tokens - 1);
      this.#charges++;
    }
    return this.#tokens > this.maxTokens / 2;
  }
}

/** Options of {@link withRetry}. */
export interface RetryOptions {
  /** Attempts including the first (default 4). */
  maxAttempts?: number;
  policy?: BackoffPolicy;
  clock: Clock;
  budget: RetryBudget;
  signal?: AbortSignal | undefined;
  random?: () => number;
  /**
   * When the whole call must be over, ms on `clock` (gRFC A6: the deadline covers all attempts).
   * A retry whose wait would reach it is not attempted: the last error is thrown at once.
   */
  deadline?: number;
}

/**
 * Runs `attempt` until it succeeds, fails with a non-retryable error, the attempts, the budget or
 * the time before `deadline` run out, or `signal` fires.
 * @param attempt one try; `n` is 0 for the first
 */
export async function withRetry<T>(attempt: (n: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const { clock, budget, signal, policy = RETRY_BACKOFF, maxAttempts = 4, random, deadline = Infinity } = options;
  for (let n = 0; ; n++) {
    const began = budget.begin();
    try {
      const result = await attempt(n);
      budget.success();
      return result;
    } catch (err) {
      const retryable = NoxyError.isInstance(err) && err.retryable;
      const allowed = retryable && budget.failure(began);
      const pushback = NoxyError.isInstance(err) ? err.retryAfterMs : undefined;
      // A pushback longer than MAX_PUSHBACK_MS is a "come back much later": give up now rather
      // than hold the caller for it. Same when the wait would end at the deadline: sleeping first
      // would only turn the relay's reason into a timeout.
      if (!allowed || n + 1 >= maxAttempts || pushback === null || (pushback ?? 0) > MAX_PUSHBACK_MS) throw err;
      const wait = pushback ?? backoffDelay(policy, n, random);
      if (clock.now() + wait >= deadline) throw err;
      await clock.sleep(wait, signal);
    }
  }
}
