/**
 * The wait hint, client side (docs/protocol.md §12): `noxy-wait-ms: N` request metadata on a
 * wait's `GetDecisionOutcome`, asking the relay to hold a pending answer up to N ms. A relay that
 * honours it echoes the header in its response headers at once; official relays ignore it.
 * @module
 */
import { describe, invalidArgument } from './errors.js';

/** The request metadata key, and the response header that acknowledges it. */
export const WAIT_HINT_HEADER = 'noxy-wait-ms';
/** Longest hold a client may ask for, ms (relays refuse more). */
export const MAX_WAIT_HINT_MS = 25_000;
/** The client's default hold, ms: under the maximum, so the hold plus a poll deadline stays short. */
export const DEFAULT_WAIT_HINT_MS = 20_000;
/** Holds shorter than this are not asked for (near the deadline a plain poll does as well). */
export const MIN_WAIT_HINT_MS = 100;

/**
 * The `waitHintMs` option, checked.
 * @throws NoxyError `INVALID_ARGUMENT` (field `waitHintMs`) unless an integer 0 … 25,000
 */
export function checkWaitHint(value: unknown): number {
  if (value === undefined) return DEFAULT_WAIT_HINT_MS;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_WAIT_HINT_MS) {
    throw invalidArgument(
      'waitHintMs',
      `an integer number of ms 0..${MAX_WAIT_HINT_MS} (0 sends no wait hint)`,
      describe(value),
    );
  }
  return value;
}
