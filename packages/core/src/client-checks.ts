/**
 * The argument checks of the agent client, apart from the client itself: TTLs, positive
 * options, the ids a send may reuse (UUIDs) and the ids a poll accepts (any printable id), and
 * the "did any device get it" check shared with the approval engine.
 * @module
 */
import type { SentDecision } from './client.js';
import { describe, invalidArgument, NoxyError } from './errors.js';

/** Longest TTL accepted: 7 days (the wire field is uint32 seconds; longer is surely a bug). */
export const MAX_TTL_SECONDS = 7 * 24 * 3600;

/**
 * Throws unless at least one device has the decision (delivered or queued).
 * @throws NoxyError with the relay's reason as the code (UNAUTHENTICATED, QUOTA_EXHAUSTED,
 *   RELAY_UNAVAILABLE, …) when a send failed — `NO_DEVICES` ("pair a device first") would send
 *   the caller the wrong way — else `NO_DEVICES`
 */
export function assertDelivered(sent: SentDecision): void {
  if (sent.delivered > 0) return;
  const why = sent.deliveries.map((d) => `${d.deviceId}: ${d.error?.message ?? d.status}`).join('; ');
  const failure = sent.deliveries.find((d) => d.status === 'failed')?.error;
  if (failure)
    throw new NoxyError(failure.code, `no device accepted the decision (${why})`, {
      grpcCode: failure.grpcCode,
      retryable: failure.retryable,
      cause: failure,
    });
  throw new NoxyError('NO_DEVICES', `no device accepted the decision (${why})`);
}

/**
 * Validates a TTL in seconds (1 … 7 days).
 * @throws NoxyError `INVALID_ARGUMENT` naming `field`
 */
export function checkTtl(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_TTL_SECONDS) {
    throw invalidArgument(field, `an integer number of seconds 1..${MAX_TTL_SECONDS}`, describe(value));
  }
  return value;
}

/** A positive finite number, or `fallback` when absent. */
export function checkPositive(value: number | undefined, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw invalidArgument(field, 'a positive number', describe(value));
  return value;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids this client creates (or is asked to reuse for a send) are UUIDs. */
// Ids this client creates (or is asked to reuse for a send) are UUIDs.
export function checkDecisionId(value: unknown, field = 'decisionId'): string {
  if (typeof value !== 'string' || !UUID.test(value)) throw invalidArgument(field, 'a UUID', describe(value));
  return value;
}

/** Longest id accepted for polling, in UTF-16 units (the local relay's limit on every id field). */
const MAX_POLL_ID = 200;
// C0, DEL and C1 controls, lone surrogates, and bidi controls (an id that displays unlike what it
// is would mislead whoever reads it in a log or an approval prompt).
const UNSAFE_ID_CHAR = /[\p{Cc}\p{Cs}\p{Bidi_Control}]/u;

/** Ids to poll may come from elsewhere (another agent, a relay), so any printable id is accepted. */
// Ids to poll may come from elsewhere (another agent, a relay), so any printable id is accepted.
export function checkPollId(value: unknown, field = 'decisionId'): string {
  const expected = `a non-empty id of at most ${MAX_POLL_ID} characters without control or bidi characters`;
  if (typeof value !== 'string' || value === '' || value.length > MAX_POLL_ID)
    throw invalidArgument(field, expected, describe(value));
  const bad = UNSAFE_ID_CHAR.exec(value);
  if (bad) {
    const code = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    throw invalidArgument(field, expected, `${describe(value)} with U+${code} at index ${bad.index}`);
  }
  return value;
}
