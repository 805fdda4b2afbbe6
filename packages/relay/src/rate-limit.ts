/**
 * Token-bucket rate limits (docs/protocol.md §4.4: "token bucket, 1 s refill"): per app on the Agent
 * API (200 msg/s by default) and per device connection (20 msg/s).
 *
 * A bucket holds up to `ratePerSecond` tokens (one second of burst) and refills continuously.
 * Time comes from the relay clock, so tests drive it without sleeping.
 *
 * Per app there is also a byte budget for the envelopes it routes ({@link KeyedRateLimiter.takeBytes}):
 * every routed byte is written to SQLite and synced on the event loop before the relay answers, so
 * without it one app sending large decisions as fast as it can (600 × 512 KiB) fills every commit
 * and every client of the relay waits behind them. The budget is {@link BYTES_PER_MESSAGE} per
 * message of the app's rate (15.6 MiB/s at the default 200 msg/s), with a burst of one second (at
 * least one largest envelope); past it the call is refused with RESOURCE_EXHAUSTED and a pushback.
 * @module
 */

/** One token bucket. */
export class TokenBucket {
  readonly #rate: number;
  readonly #capacity: number;
  readonly #now: () => number;
  #tokens: number;
  #last: number;

  /**
   * @param ratePerSecond refill rate and capacity (burst of one second)
   * @param now the clock, ms
   * @param capacity burst size when not one second of the rate
   */
  constructor(ratePerSecond: number, now: () => number, capacity = ratePerSecond) {
    this.#rate = ratePerSecond;
    this.#capacity = Math.max(1, capacity);
    this.#now = now;
    this.#tokens = this.#capacity;
    this.#last = now();
  }

  /**
   * Takes `cost` tokens (one by default), or none.
   * @param cost tokens to take, at most the capacity (more is clamped to it: it could never pass)
   * @returns 0 when allowed, otherwise the ms until `cost` tokens are available (≥ 1)
   */
  take(cost = 1): number {
    const now = this.#now();
    // A clock that goes backwards (tests, NTP) must not mint tokens or lock the bucket.
    const elapsed = Math.max(0, now - this.#last);
    this.#last = Math.max(this.#last, now);
    this.#tokens = Math.min(this.#capacity, this.#tokens + (elapsed * this.#rate) / 1000);
    const need = Math.min(cost, this.#capacity);
    if (this.#tokens >= need) {
      this.#tokens -= need;
      return 0;
    }
    return Math.max(1, Math.ceil(((need - this.#tokens) * 1000) / this.#rate));
  }

  /** True when the bucket is full again (idle), so a keyed limiter may drop it. */
  idle(): boolean {
    const elapsed = Math.max(0, this.#now() - this.#last);
    return this.#tokens + (elapsed * this.#rate) / 1000 >= this.#capacity;
  }
}

/** Envelope bytes per second an app may route for each message per second of its rate. */
export const BYTES_PER_MESSAGE = 80 << 10;
/** The smallest byte burst: one largest envelope (4 MiB ciphertext, its ML-KEM ciphertext and nonce). */
export const MIN_BYTE_BURST = (4 << 20) + 4096;

/** Token buckets keyed by a string (the app id), created on first use: messages, and envelope bytes. */
export class KeyedRateLimiter {
  readonly #rate: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, TokenBucket>();
  readonly #bytes = new Map<string, TokenBucket>();
  readonly #maxKeys: number;

  /**
   * @param ratePerSecond rate of each bucket
   * @param now the clock, ms
   * @param maxKeys when exceeded, idle buckets are dropped (memory stays bounded)
   */
  constructor(ratePerSecond: number, now: () => number, maxKeys = 10_000) {
    this.#rate = ratePerSecond;
    this.#now = now;
    this.#maxKeys = maxKeys;
  }

  /**
   * Takes one token from `key`'s bucket.
   * @returns 0 when allowed, else ms until the next token
   */
  take(key: string): number {
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      if (this.#buckets.size >= this.#maxKeys) this.#prune();
      bucket = new TokenBucket(this.#rate, this.#now);
      this.#buckets.set(key, bucket);
    }
    return bucket.take();
  }

  /** Envelope bytes per second each key may route ({@link BYTES_PER_MESSAGE} × the message rate). */
  get bytesPerSecond(): number {
    return this.#rate * BYTES_PER_MESSAGE;
  }

  /**
   * Takes `bytes` from `key`'s byte budget, or nothing.
   * @returns 0 when allowed, else ms until the budget holds `bytes` again
   */
  takeBytes(key: string, bytes: number): number {
    let bucket = this.#bytes.get(key);
    if (!bucket) {
      if (this.#bytes.size >= this.#maxKeys) this.#prune();
      const rate = this.bytesPerSecond;
      bucket = new TokenBucket(rate, this.#now, Math.max(rate, MIN_BYTE_BURST));
      this.#bytes.set(key, bucket);
    }
    return bucket.take(bytes);
  }

  #prune(): void {
    for (const map of [this.#buckets, this.#bytes]) for (const [key, bucket] of map) if (bucket.idle()) map.delete(key);
  }
}

/** What a RouteDecision over its app's byte budget is refused with (RESOURCE_EXHAUSTED). */
export interface ByteBudgetRefusal {
  message: string;
  /** `grpc-retry-pushback-ms` (when the budget holds the envelope again) and `noxy-error: RATE_LIMITED`. */
  trailers: Record<string, string>;
}

/**
 * Charges a routed envelope (its ML-KEM ciphertext, nonce and ciphertext) to the app's byte budget.
 * @returns undefined when within the budget, else the refusal to answer
 */
export function overByteBudget(
  limiter: KeyedRateLimiter,
  appId: string,
  envelope: { kyberCt: Uint8Array; nonce: Uint8Array; ciphertext: Uint8Array },
): ByteBudgetRefusal | undefined {
  const bytes = envelope.kyberCt.length + envelope.nonce.length + envelope.ciphertext.length;
  const waitMs = limiter.takeBytes(appId, bytes);
  if (waitMs === 0) return undefined;
  const mib = (limiter.bytesPerSecond / (1 << 20)).toFixed(1);
  return {
    message: `rate limit exceeded: ${mib} MiB of envelopes per second per app; retry after the pushback`,
    trailers: { 'grpc-retry-pushback-ms': String(waitMs), 'noxy-error': 'RATE_LIMITED' },
  };
}

/**
 * Concurrent slots keyed by a string (the app id), with a cap per key and one for all keys: the
 * held `GetDecisionOutcome` calls of the wait hint (docs/protocol.md §12). A held call has already
 * taken its one token from the app's {@link KeyedRateLimiter} bucket, like the poll it replaces;
 * these caps bound what one app, and all apps together, may keep open at the same time.
 */
export class SlotLimiter {
  readonly #perKey: number;
  readonly #total: number;
  readonly #used = new Map<string, number>();
  #size = 0;

  /**
   * @param perKey most slots one key may hold
   * @param total most slots all keys together may hold
   */
  constructor(perKey: number, total: number) {
    this.#perKey = perKey;
    this.#total = total;
  }

  /** Slots in use, all keys. */
  get size(): number {
    return this.#size;
  }

  /**
   * Takes a slot for `key`.
   * @returns false (nothing taken) when `key` or the whole limiter is at its cap
   */
  take(key: string): boolean {
    const used = this.#used.get(key) ?? 0;
    if (used >= this.#perKey || this.#size >= this.#total) return false;
    this.#used.set(key, used + 1);
    this.#size++;
    return true;
  }

  /** Gives back a slot taken by {@link take}. */
  release(key: string): void {
    const used = this.#used.get(key) ?? 0;
    if (used <= 0) return;
    if (used === 1) this.#used.delete(key);
    else this.#used.set(key, used - 1);
    this.#size--;
  }
}
