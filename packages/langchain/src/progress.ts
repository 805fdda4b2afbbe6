/**
 * Progress while a human decides: events for LangGraph's `custom` stream mode
 * (`agent.stream(input, { streamMode: ['custom', 'updates'] })`), written through the run's
 * `writer`. A human takes seconds to minutes, and a UI that shows nothing for that long looks
 * hung; so the first event comes as soon as the request reached the relay (the first outcome
 * poll), then one every {@link PROGRESS_INTERVAL_MS} while waiting, and a last one with the
 * outcome.
 * @module
 */
import type { ApprovalContext, DecisionOutcome } from '@noxy-approval/core';

/** At most this long between two progress events while waiting. */
export const PROGRESS_INTERVAL_MS = 10_000;

/** One progress event, as it arrives in the `custom` stream. */
export interface ApprovalProgressEvent {
  /** Tells these events apart from other custom events of the run. */
  type: 'noxy_approval';
  /** `waiting`: asked, no answer yet; `decided`: the wait ended with `outcome`. */
  status: 'waiting' | 'decided';
  tool: string;
  toolCallId: string | undefined;
  /** Time since the request was made. */
  elapsedMs: number;
  /** Outcome polls so far. */
  polls: number;
  /** The outcome (for `decided`; `pending` when the hold ended first). */
  outcome?: DecisionOutcome;
}

/** Where events go: the run's `writer` (null or absent outside a graph). */
export type ProgressWriter = ((chunk: unknown) => void) | null | undefined;

/** A progress reporter for one call. */
export interface ProgressReporter {
  /** Pass as the engine's `onPoll`. */
  onPoll: NonNullable<ApprovalContext['onPoll']>;
  /** Reports the outcome (if any) and stops the timer. */
  finish(outcome?: DecisionOutcome): void;
}

/**
 * Creates the reporter of one call; a no-op without a writer.
 * @param now injectable time (tests)
 */
export function createProgress(
  writer: ProgressWriter,
  tool: string,
  toolCallId: string | undefined,
  now: () => number = Date.now,
): ProgressReporter {
  const started = now();
  let polls = 0;
  let timer: ReturnType<typeof setInterval> | undefined;
  let done = false;
  const emit = (status: ApprovalProgressEvent['status'], outcome?: DecisionOutcome) => {
    if (!writer) return;
    const event: ApprovalProgressEvent = {
      type: 'noxy_approval',
      status,
      tool,
      toolCallId,
      elapsedMs: now() - started,
      polls,
      ...(outcome ? { outcome } : {}),
    };
    try {
      writer(event);
    } catch {
      // A broken stream consumer must not fail the approval, nor let the action run unasked.
    }
  };
  return {
    onPoll(info) {
      polls = info.polls;
      if (done || timer !== undefined || !writer) return;
      // The first poll means the request was delivered: tell the UI now, then on a timer, so
      // the gap stays bounded even when a single poll is slow.
      emit('waiting');
      timer = setInterval(() => emit('waiting'), PROGRESS_INTERVAL_MS);
      timer.unref?.();
    },
    finish(outcome) {
      if (done) return;
      done = true;
      if (timer !== undefined) clearInterval(timer);
      if (outcome) emit('decided', outcome);
    },
  };
}
