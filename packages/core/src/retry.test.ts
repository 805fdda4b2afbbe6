/**
 * The client's retry budget (gRFC A6 throttling; calls cut by one event count once) and
 * withRetry's use of it.
 */
import { describe, expect, it } from 'vitest';
import { NoxyError } from './errors.js';
import { RetryBudget, withRetry } from './retry.js';
import type { Clock } from './clock.js';

/** A clock whose sleeps end at once, so retries happen without waiting. */
const instantClock: Clock = { now: () => 0, sleep: async () => {} };

describe('RetryBudget', () => {
  /** One attempt that starts and fails before the next starts. */
  const failAlone = (budget: RetryBudget) => budget.failure(budget.begin());

  it('failures of attempts made one after another each cost a token: retries stop at half', () => {
    const budget = new RetryBudget();
    expect([1, 2, 3, 4, 5, 6].map(() => failAlone(budget))).toEqual([true, true, true, true, false, false]);
  });

  it('attempts in flight together and cut by one event (a connection reset) cost one token, not one each', () => {
    const budget = new RetryBudget();
    for (let reset = 0; reset < 4; reset++) {
      const began = [1, 2, 3, 4, 5].map(() => budget.begin()); // five calls on one connection …
      expect(began.map((b) => budget.failure(b))).toEqual([true, true, true, true, true]); // … reset
    }
    expect(failAlone(budget)).toBe(false); // the fifth event reaches half of 10
  });

  it('an attempt started after a charged failure pays for its own', () => {
    const budget = new RetryBudget();
    const first = budget.begin();
    budget.failure(first); // 9
    const later = budget.begin();
    const earlier = first; // in flight since before that failure: free
    expect(budget.failure(earlier)).toBe(true);
    expect(budget.failure(later)).toBe(true); // 8
    expect([1, 2, 3].map(() => failAlone(budget))).toEqual([true, true, false]); // 7, 6, 5
  });

  it('successes refill it slowly (+0.1 each, up to 10)', () => {
    const budget = new RetryBudget();
    for (let i = 0; i < 5; i++) failAlone(budget);
    for (let i = 0; i < 10; i++) budget.success();
    expect(failAlone(budget)).toBe(false); // 5 + 1 − 1 = 5: still not above half
    for (let i = 0; i < 20; i++) budget.success();
    expect(failAlone(budget)).toBe(true);
  });
});

describe('withRetry with the budget', () => {
  const unavailable = () => new NoxyError('RELAY_UNAVAILABLE', 'down', { retryable: true });

  it('five concurrent calls cut by one reset are all retried, and all succeed', async () => {
    const budget = new RetryBudget();
    const attempts = Array.from({ length: 5 }, () =>
      withRetry(
        async (n) => {
          if (n === 0) throw unavailable();
          return 'ok';
        },
        { clock: instantClock, budget, random: () => 0 },
      ),
    );
    expect(await Promise.all(attempts)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
  });
});
