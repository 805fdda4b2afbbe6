import { describe, expect, it } from 'vitest';
import { ReplayGuard } from './replay.js';

const nonce = (n: number) => Buffer.alloc(12, n);

describe('ReplayGuard', () => {
  it('refuses wrong nonce sizes, stale or future timestamps and repeated nonces per app', () => {
    const now = 10_000_000;
    const guard = new ReplayGuard(300_000, () => now);
    expect(guard.check('app', BigInt(now), Buffer.alloc(11))).toBe('INVALID_NONCE');
    expect(guard.check('app', BigInt(now - 300_001), nonce(1))).toBe('STALE_TIMESTAMP');
    expect(guard.check('app', BigInt(now + 300_001), nonce(1))).toBe('STALE_TIMESTAMP');
    expect(guard.check('app', 0n, nonce(1))).toBe('STALE_TIMESTAMP');
    expect(guard.check('app', BigInt(now - 300_000), nonce(1))).toBeUndefined();
    expect(guard.check('app', BigInt(now), nonce(1))).toBe('REPEATED_NONCE');
    expect(guard.check('other-app', BigInt(now), nonce(1))).toBeUndefined();
    expect(guard.check('app', 2n ** 64n - 1n, nonce(2))).toBe('STALE_TIMESTAMP');
  });

  it('forgets nonces after twice the window, when the timestamp check alone refuses them', () => {
    let now = 10_000_000;
    const guard = new ReplayGuard(1_000, () => now);
    const sent = BigInt(now);
    expect(guard.check('app', sent, nonce(7))).toBeUndefined();
    now += 2_001;
    expect(guard.check('app', BigInt(now), nonce(8))).toBeUndefined();
    expect(guard.size).toBe(1);
    expect(guard.check('app', sent, nonce(7))).toBe('STALE_TIMESTAMP');
  });
});
