import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay, POLL_BACKOFF, RETRY_BACKOFF, type BackoffPolicy } from './backoff.js';

const policy: fc.Arbitrary<BackoffPolicy> = fc.record({
  initialMs: fc.double({ min: 1, max: 60_000, noNaN: true }),
  maxMs: fc.double({ min: 1, max: 600_000, noNaN: true }),
  multiplier: fc.double({ min: 1, max: 10, noNaN: true }),
  jitter: fc.double({ min: 0, max: 1, noNaN: true }),
});
const uniform = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

/** The un-jittered delay of the documented formula: min(cap, initial · multiplier^step). */
const baseOf = (p: BackoffPolicy, step: number) => Math.min(p.maxMs, p.initialMs * p.multiplier ** step);

describe('backoffDelay', () => {
  it('never exceeds the cap and never goes below (1 − jitter) · base', () => {
    fc.assert(
      fc.property(
        fc.oneof(policy, fc.constant(POLL_BACKOFF), fc.constant(RETRY_BACKOFF)),
        fc.nat(2_000),
        uniform,
        (p, step, r) => {
          const delay = backoffDelay(p, step, () => r);
          const base = baseOf(p, step);
          expect(Number.isFinite(delay)).toBe(true);
          expect(delay).toBeLessThanOrEqual(p.maxMs);
          expect(delay).toBeLessThanOrEqual(base);
          expect(delay).toBeGreaterThanOrEqual((1 - p.jitter) * base * (1 - 1e-12));
          expect(delay).toBeGreaterThan(0);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('full jitter spans (0, base] and no jitter is exactly the base', () => {
    expect(backoffDelay(RETRY_BACKOFF, 0, () => 0)).toBe(100);
    expect(backoffDelay(RETRY_BACKOFF, 0, () => 0.999_999)).toBeLessThan(0.001);
    expect(backoffDelay(RETRY_BACKOFF, 10, () => 0)).toBe(2_000);
    const fixed = { ...POLL_BACKOFF, jitter: 0 };
    expect([0, 1, 2, 3, 50].map((n) => backoffDelay(fixed, n, () => 0.5))).toEqual([250, 500, 1_000, 1_600, 1_600]);
  });

  it('the poll schedule stays within [0.8 s, 1.6 s] once capped, whatever the random source', () => {
    fc.assert(
      fc.property(fc.integer({ min: 3, max: 1_000_000 }), uniform, (step, r) => {
        const delay = backoffDelay(POLL_BACKOFF, step, () => r);
        expect(delay).toBeGreaterThanOrEqual(800);
        expect(delay).toBeLessThanOrEqual(1_600);
      }),
    );
  });
});
