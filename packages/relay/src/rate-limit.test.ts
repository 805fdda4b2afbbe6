import { describe, expect, it } from 'vitest';
import {
  BYTES_PER_MESSAGE,
  KeyedRateLimiter,
  MIN_BYTE_BURST,
  overByteBudget,
  SlotLimiter,
  TokenBucket,
} from './rate-limit.js';

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

describe('byte budget per app (RouteDecision envelopes)', () => {
  const envelope = (bytes: number) => ({
    kyberCt: new Uint8Array(1088),
    nonce: new Uint8Array(12),
    ciphertext: new Uint8Array(bytes - 1100),
  });

  it('allows one second of the app’s byte rate, then refuses with a pushback until it refills', () => {
    let now = 0;
    const limiter = new KeyedRateLimiter(200, () => now);
    expect(limiter.bytesPerSecond).toBe(200 * BYTES_PER_MESSAGE);
    const size = 512 << 10;
    const burst = Math.floor(limiter.bytesPerSecond / size);
    for (let i = 0; i < burst; i++)
      expect(overByteBudget(limiter, 'attacker', envelope(size)), `#${i}`).toBeUndefined();
    const refused = overByteBudget(limiter, 'attacker', envelope(size));
    expect(refused?.message).toMatch(/15\.6 MiB of envelopes per second per app/);
    const wait = Number(refused?.trailers['grpc-retry-pushback-ms']);
    expect(refused?.trailers['noxy-error']).toBe('RATE_LIMITED');
    // The pushback is the time until the budget holds the envelope again: not sooner, then yes.
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(Math.ceil((size * 1000) / limiter.bytesPerSecond));
    now += wait - 1;
    expect(overByteBudget(limiter, 'attacker', envelope(size))).toBeDefined();
    now += 1;
    expect(overByteBudget(limiter, 'attacker', envelope(size))).toBeUndefined();
    // Another app has its own budget, untouched by the attacker.
    expect(overByteBudget(limiter, 'bystander', envelope(size))).toBeUndefined();
    // Refused calls took nothing: the message bucket is separate and the attacker's is full.
    expect(limiter.take('attacker')).toBe(0);
  });

  it('a slow rate still passes one largest envelope (the burst is at least MIN_BYTE_BURST)', () => {
    let now = 0;
    const limiter = new KeyedRateLimiter(1, () => now);
    expect(limiter.bytesPerSecond).toBe(BYTES_PER_MESSAGE);
    expect(overByteBudget(limiter, 'a', envelope(MIN_BYTE_BURST))).toBeUndefined();
    const refused = overByteBudget(limiter, 'a', envelope(64 << 10));
    expect(Number(refused?.trailers['grpc-retry-pushback-ms'])).toBe(800); // 64 KiB at 80 KiB/s
    now += 800;
    expect(overByteBudget(limiter, 'a', envelope(64 << 10))).toBeUndefined();
  });

  it('TokenBucket.take(cost) takes all or nothing and clamps a cost above its capacity', () => {
    let now = 0;
    const bucket = new TokenBucket(100, () => now, 1000);
    expect(bucket.take(600)).toBe(0);
    expect(bucket.take(600)).toBe(2000); // 200 missing at 100/s
    expect(bucket.take(400)).toBe(0);
    now += 20_000;
    expect(bucket.take(5000)).toBe(0); // clamped to the capacity: possible once full
    expect(bucket.take(1)).toBe(10);
  });
});
