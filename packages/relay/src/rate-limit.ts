/**
 * Token-bucket rate limits (docs/protocol.md §4.4: "token bucket, 1 s refill"): per app on the Agent
 * API (200 msg/s by default) and per device connection (20 msg/s).
 *
 * A bucket holds up to `ratePerSecond` tokens (one second of burst) and refills continuously.
 * Time comes from the relay clock, so tests drive it without sleeping.
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
   */
  constructor(ratePerSecond: number, now: () => number) {
    this.#rate = ratePerSecond;
    this.#capacity = Math.max(1, ratePerSecond);
    this.#now = now;
    this.#tokens = this.#capacity;
    this.#last = now();
  }

  /**
   * Takes one token.
   * @returns 0 when allowed, otherwise the ms until a token is available (≥ 1)
   */
  take(): number {
    const now = this.#now();
    // A clock that goes backwards (tests, NTP) must not mint tokens or lock the bucket.
    const elapsed = Math.max(0, now - this.#last);
    this.#last = Math.max(this.#last, now);
    this.#tokens = Math.min(this.#capacity, this.#tokens + (elapsed * this.#rate) / 1000);
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - this.#tokens) * 1000) / this.#rate));
  }

  /** True when the bucket is full again (idle), so a keyed limiter may drop it. */
  idle(): boolean {
    const elapsed = Math.max(0, this.#now() - this.#last);
    return this.#tokens + (elapsed * this.#rate) / 1000 >= this.#capacity;
  }
}

/** Token buckets keyed by a string (the app id), created on first use. */
export class KeyedRateLimiter {
  readonly #rate: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, TokenBucket>();
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

  #prune(): void {
    for (const [key, bucket] of this.#buckets) if (bucket.idle()) this.#buckets.delete(key);
  }
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
