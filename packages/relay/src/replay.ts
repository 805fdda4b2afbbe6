/**
 * Replay checks on device requests (docs/local-relay-contract.md "Sessions and replay"):
 * a 12-byte nonce (else INVALID_NONCE), a timestamp within ±window of the relay clock (else
 * REPLAY_DETECTED), and a nonce not seen before for the app within the window (else
 * REPLAY_DETECTED).
 *
 * Seen nonces are kept in memory for twice the window, after which the timestamp check alone
 * refuses a replay; memory is therefore bounded by the request rate times 2 × window. A relay
 * restart forgets them, but sessions do not survive a restart either, so a replayed request
 * can at most re-authenticate (which proves nothing an attacker did not already know).
 * @module
 */

/** Why a request failed the replay checks. */
export type ReplayProblem = 'INVALID_NONCE' | 'STALE_TIMESTAMP' | 'REPEATED_NONCE';

/** Nonce length of device requests (docs/protocol.md §5.2). */
export const DEVICE_NONCE_BYTES = 12;

/** The replay guard of one relay. */
export class ReplayGuard {
  readonly #windowMs: number;
  readonly #now: () => number;
  // Insertion-ordered: the oldest entries are at the front, so pruning stops at the first live one.
  readonly #seen = new Map<string, number>();

  /**
   * @param windowMs allowed clock difference (default 5 min)
   * @param now the relay clock, ms
   */
  constructor(windowMs: number, now: () => number) {
    this.#windowMs = windowMs;
    this.#now = now;
  }

  /**
   * Checks a request and, when it passes, remembers its nonce.
   * @param appId the app the request claims
   * @param timestampMs the request's timestamp (ms since epoch)
   * @param nonce the request's nonce
   * @returns the problem, or `undefined` when the request may proceed
   */
  check(appId: string, timestampMs: bigint, nonce: Uint8Array): ReplayProblem | undefined {
    if (nonce.length !== DEVICE_NONCE_BYTES) return 'INVALID_NONCE';
    const now = this.#now();
    const skew = Number(timestampMs) - now;
    if (!Number.isFinite(skew) || Math.abs(skew) > this.#windowMs) return 'STALE_TIMESTAMP';
    this.#prune(now);
    const key = `${appId}\u0000${Buffer.from(nonce).toString('base64')}`;
    if (this.#seen.has(key)) return 'REPEATED_NONCE';
    this.#seen.set(key, now + 2 * this.#windowMs);
    return undefined;
  }

  /** Number of remembered nonces (tests, metrics). */
  get size(): number {
    return this.#seen.size;
  }

  #prune(now: number): void {
    // Bounded by the map size; stops at the first entry still inside its lifetime.
    for (const [key, expires] of this.#seen) {
      if (expires > now) break;
      this.#seen.delete(key);
    }
  }
}
