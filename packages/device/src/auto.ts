/**
 * `autoDecide`: answers every decision a device receives without a human — for tests, demos
 * and scripted agents' end-to-end checks. Never use it where a real person should decide.
 * @module
 */
import type { ReceivedDecision } from './decision.js';
import type { Choice, DecideResult, NoxyDevice } from './device.js';
import type { Unsubscribe } from './events.js';

/** Options of {@link autoDecide}. */
export interface AutoDecideOptions {
  /** Wait this long before answering (ms). Default 0. */
  delayMs?: number;
  /** Called with each answer the relay recorded. */
  onDecided?: (result: DecideResult, decision: ReceivedDecision) => void;
  /** Called when an answer fails (e.g. the decision expired); the device's `error` event is separate. */
  onFailed?: (error: unknown, decision: ReceivedDecision) => void;
}

/**
 * Answers each incoming decision with `choice` (or what `choice(decision)` returns; `undefined`
 * leaves it for someone else). A decision soft-cancelled during the delay is not answered.
 * @returns a function that stops answering and cancels pending delays
 * @example
 * const stop = autoDecide(device, 'approve', { delayMs: 100 });
 */
export function autoDecide(
  device: NoxyDevice,
  choice: Choice | ((decision: ReceivedDecision) => Choice | undefined),
  options: AutoDecideOptions = {},
): Unsubscribe {
  const timers = new Map<string, ReturnType<typeof setTimeout>>();
  const answer = (d: ReceivedDecision) => {
    timers.delete(d.decisionId);
    const c = typeof choice === 'function' ? choice(d) : choice;
    if (c === undefined) return;
    device.decide(d.decisionId, c).then(
      (r) => options.onDecided?.(r, d),
      (e: unknown) => options.onFailed?.(e, d),
    );
  };
  const offDecision = device.on('decision', (d) => {
    if (!options.delayMs) return answer(d);
    timers.set(
      d.decisionId,
      setTimeout(() => answer(d), options.delayMs),
    );
  });
  const offRouted = device.on('routed', ({ decisionId }) => {
    clearTimeout(timers.get(decisionId));
    timers.delete(decisionId);
  });
  return () => {
    offDecision();
    offRouted();
    for (const t of timers.values()) clearTimeout(t);
    timers.clear();
  };
}
