/**
 * Waiting for a human (docs/protocol.md §4.1).
 *
 * - The deadline comes from the decision: `expiresAt + grace`, optionally shortened by the
 *   caller's `maxWaitMs`. Reaching the decision's own deadline without a verdict means the
 *   decision expired (`expired`); reaching only the caller's limit means it is still `pending`
 *   and can be resumed later from its id.
 * - Sleeps follow `POLL_BACKOFF` (jittered, capped at 1.6 s), clamped so the last poll happens
 *   at the deadline; every poll first takes a token from the client's `PollScheduler`.
 * - Transient relay errors (unavailable, rate limited) are retried inside the deadline;
 *   anything else ends the wait with a `NoxyError`. An AbortSignal cancels the in-flight RPC
 *   and the timer at once.
 * - With the wait hint (docs/protocol.md §12) a poll may be held by the relay until the outcome
 *   changes. A poll the relay says it held, and that lasted at least half the hold, is followed
 *   by the next one at once (still taking a token); any other answer — a relay that ignores the
 *   hint, or one that answered a held call early (e.g. shutting down) — is followed by the
 *   backoff above, so such a relay sees exactly the polls it saw without the hint.
 * @module
 */
import { backoffDelay, POLL_BACKOFF, type BackoffPolicy } from './backoff.js';
import type { Clock } from './clock.js';
import { abortError, NoxyError } from './errors.js';
import { isTerminalOutcome, type DecisionOutcome } from './outcome.js';
import type { PollScheduler } from './poll-scheduler.js';

/** Default slack after `expiresAt` for the relay's own expiry to become visible. */
export const DEFAULT_GRACE_MS = 2_000;

/** The result of a wait. */
export interface WaitResult {
  outcome: DecisionOutcome;
  decisionId: string;
  /** GetDecisionOutcome calls made. */
  polls: number;
  /** Clock time (ms since epoch) at which the final outcome was observed. */
  observedAt: number;
}

/** Options of {@link waitForOutcome}. */
export interface WaitLoopOptions {
  decisionId: string;
  /** When the decision expires (ms since epoch). */
  expiresAt: number;
  graceMs?: number;
  /** Caller's own limit in ms; when it is reached first the result is `pending`. */
  maxWaitMs?: number;
  signal?: AbortSignal | undefined;
  policy?: BackoffPolicy;
  random?: () => number;
  /**
   * Called after each poll (progress reporting); for a poll the relay holds (wait hint), as soon
   * as the relay says it holds it (outcome `pending`), so progress is not held up with it, and
   * again if that poll brings the final outcome.
   */
  onPoll?: (info: { polls: number; outcome: DecisionOutcome; elapsedMs: number }) => void;
}

/** A poll's answer, and whether the relay held it (the wait hint). */
export interface PollAnswer {
  outcome: DecisionOutcome;
  /** The hold the relay acknowledged, ms; undefined when it answered without holding. */
  heldMs?: number | undefined;
}

/** What the loop needs from its surroundings. */
export interface WaitDeps {
  /**
   * One GetDecisionOutcome, already mapped. `remainingMs` is the time left before the wait's
   * deadline: an implementation shortens its RPC deadline towards it (the client keeps at
   * least 2 s), so a stuck call overruns the limit by little.
   */
  poll(
    signal: AbortSignal | undefined,
    remainingMs: number,
    onHeld?: () => void,
  ): Promise<DecisionOutcome | PollAnswer>;
  clock: Clock;
  scheduler: PollScheduler;
}

function transient(err: unknown): boolean {
  return (
    NoxyError.isInstance(err) &&
    (err.code === 'RELAY_UNAVAILABLE' || err.code === 'RATE_LIMITED' || err.code === 'RELAY_ERROR') &&
    err.retryable
  );
}

/**
 * Takes a poll token, giving up (false) when `ms` pass first; `ABORTED` if `signal` fires.
 */
async function acquireBefore(
  scheduler: PollScheduler,
  clock: Clock,
  signal: AbortSignal | undefined,
  ms: number,
): Promise<boolean> {
  if (ms === Infinity) {
    await scheduler.acquire(signal);
    return true;
  }
  const expired = new AbortController();
  const done = new AbortController();
  void clock.sleep(Math.max(0, ms), done.signal).then(
    () => expired.abort(),
    () => undefined,
  );
  try {
    await scheduler.acquire(signal ? AbortSignal.any([signal, expired.signal]) : expired.signal);
    return true;
  } catch (err) {
    if (expired.signal.aborted && !signal?.aborted) return false;
    throw err;
  } finally {
    done.abort();
  }
}

/**
 * Polls until the decision is terminal, its deadline passes, or the caller's limit is reached.
 * @throws NoxyError `ABORTED`, or a non-transient relay error
 */
export async function waitForOutcome(options: WaitLoopOptions, deps: WaitDeps): Promise<WaitResult> {
  const { clock, scheduler } = deps;
  const { decisionId, signal, policy = POLL_BACKOFF, random, onPoll } = options;
  const start = clock.now();
  const decisionDeadline = options.expiresAt + (options.graceMs ?? DEFAULT_GRACE_MS);
  const callerDeadline = options.maxWaitMs === undefined ? Infinity : start + options.maxWaitMs;
  const deadline = Math.min(decisionDeadline, callerDeadline);
  let polls = 0;
  let lastError: unknown;
  let answered = 0; // polls the relay answered
  let step = 0; // backoff step, back to 0 after every full hold

  // Bounded by the deadline: every pass takes a poll token and either sleeps or was held.
  for (;;) {
    if (signal?.aborted) throw abortError(signal);
    // The caller's limit is a promise (e.g. an MCP host's timeout): when the client's poll budget
    // is oversubscribed, stop queueing for a poll at that limit and report `pending`.
    const limitedByCaller = callerDeadline < decisionDeadline;
    if (!(await acquireBefore(scheduler, clock, signal, limitedByCaller ? callerDeadline - clock.now() : Infinity))) {
      return { outcome: 'pending', decisionId, polls, observedAt: clock.now() };
    }
    let outcome: DecisionOutcome = 'pending';
    let held = false;
    let reported = false; // onPoll already called for this poll (at the relay's hold)
    try {
      polls++;
      const sentAt = clock.now();
      let thrown: { error: unknown } | undefined;
      const onHeld = () => {
        reported = true;
        // Runs inside the transport's event: an exception of the caller's hook ends the wait
        // below, as it would after a poll, instead of escaping into gRPC.
        try {
          onPoll?.({ polls, outcome: 'pending', elapsedMs: clock.now() - start });
        } catch (error) {
          thrown = { error };
        }
      };
      const answer = await deps.poll(signal, Math.max(0, deadline - sentAt), onHeld);
      if (thrown) throw thrown.error;
      const { outcome: o, heldMs } = typeof answer === 'string' ? { outcome: answer, heldMs: undefined } : answer;
      outcome = o;
      held = heldMs !== undefined && clock.now() - sentAt >= heldMs / 2;
      lastError = undefined;
      answered++;
    } catch (err) {
      if (!transient(err) || signal?.aborted) throw err;
      lastError = err;
    }
    const now = clock.now();
    if (!reported || isTerminalOutcome(outcome)) onPoll?.({ polls, outcome, elapsedMs: now - start });
    if (isTerminalOutcome(outcome)) return { outcome, decisionId, polls, observedAt: now };
    if (now >= deadline) {
      // The caller's limit (e.g. an MCP host's timeout) is not the decision's: the decision may
      // still be answered, so report `pending` with its id — unless the relay never answered
      // during this wait, which the caller must hear about.
      if (deadline !== decisionDeadline) {
        if (lastError && answered === 0) throw lastError;
        return { outcome: 'pending', decisionId, polls, observedAt: now };
      }
      // At the decision's own deadline, a relay we could not reach is an error, not a guess.
      if (lastError) throw lastError;
      return { outcome: 'expired', decisionId, polls, observedAt: now };
    }
    if (held) {
      step = 0;
      continue;
    }
    await clock.sleep(Math.min(backoffDelay(policy, step++, random), deadline - now), signal);
  }
}
