import { describe, expect, it } from 'vitest';
import { KeyedRateLimiter, SlotLimiter, TokenBucket } from './rate-limit.js';

describe('TokenBucket', () => {
  it('allows one second of burst, then refills continuously with the clock', () => {
    let now = 0;
    const bucket = new TokenBucket(20, () => now);
    const burst = Array.from({ length: 25 }, () => bucket.take());
    expect(burst.filter((w) => w === 0)).toHaveLength(20);
    expect(burst[20]).toBe(50); // 1 token at 20/s = 50 ms
    now += 50;
    expect(bucket.take()).toBe(0);
    expect(bucket.take()).toBeGreaterThan(0);
    now += 10_000;
    expect(Array.from({ length: 21 }, () => bucket.take()).filter((w) => w === 0)).toHaveLength(20);
  });

  it('neither mints tokens nor locks up when the clock goes backwards', () => {
    let now = 1_000_000;
    const bucket = new TokenBucket(2, () => now);
    expect(bucket.take()).toBe(0);
    expect(bucket.take()).toBe(0);
    now -= 60_000;
    expect(bucket.take()).toBeGreaterThan(0);
    now += 60_000 + 500;
    expect(bucket.take()).toBe(0);
  });
});

describe('KeyedRateLimiter', () => {
  it('keeps one bucket per key and prunes idle ones past maxKeys', () => {
    let now = 0;
    const limiter = new KeyedRateLimiter(1, () => now, 2);
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBeGreaterThan(0);
    expect(limiter.take('b')).toBe(0);
    now += 5_000;
    expect(limiter.take('c')).toBe(0); // prunes idle a and b
    expect(limiter.take('a')).toBe(0);
  });
});

describe('SlotLimiter', () => {
  it('caps slots per key and in all, gives them back, and ignores a release it never gave', () => {
    const slots = new SlotLimiter(2, 3);
    expect([slots.take('a'), slots.take('a'), slots.take('a')]).toEqual([true, true, false]);
    expect([slots.take('b'), slots.take('c')]).toEqual([true, false]);
    slots.release('c'); // never taken: nothing changes
    expect(slots.size).toBe(3);
    slots.release('a');
    expect(slots.take('c')).toBe(true);
    for (const key of ['a', 'b', 'c']) slots.release(key);
    expect(slots.size).toBe(0);
  });
});
