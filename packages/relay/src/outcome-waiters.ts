/**
 * Who is waiting for a decision to close: the change notification behind the wait hint
 * (docs/protocol.md §12). The engine wakes a decision's waiters once, when its outcome becomes
 * terminal (answered or expired); nothing is kept for a decision nobody waits on, and a waiter
 * that leaves (answered by its timer, cancelled, shut down) removes itself at once.
 * @module
 */
import type { DecisionKey } from './store/index.js';

/** A waiter; `wake` is called at most once. */
export interface OutcomeWaiter {
  wake(): void;
}

/** The map key of a decision: app, identity and decision id, each unambiguous (NUL never appears in ids). */
export function decisionKeyString(key: DecisionKey): string {
  return `${key.appId}\u0000${key.identityId}\u0000${key.decisionId}`;
}

/** Waiter sets per decision. */
export class OutcomeWaiters {
  readonly #byDecision = new Map<string, Set<OutcomeWaiter>>();

  /** Decisions with at least one waiter (tests check that nothing is left behind). */
  get decisions(): number {
    return this.#byDecision.size;
  }

  /** Adds `waiter` to the decision `key` (from {@link decisionKeyString}). */
  add(key: string, waiter: OutcomeWaiter): void {
    let set = this.#byDecision.get(key);
    if (!set) {
      set = new Set();
      this.#byDecision.set(key, set);
    }
    set.add(waiter);
  }

  /** Removes `waiter`; the decision's entry goes with its last waiter. */
  remove(key: string, waiter: OutcomeWaiter): void {
    const set = this.#byDecision.get(key);
    if (!set) return;
    set.delete(waiter);
    if (set.size === 0) this.#byDecision.delete(key);
  }

  /**
   * The decision closed: every waiter is woken once and the entry dropped. Called by the engine
   * after the transaction that closed it, so a woken waiter reads the final outcome.
   */
  wake(key: DecisionKey): void {
    const k = decisionKeyString(key);
    const set = this.#byDecision.get(k);
    if (!set) return;
    this.#byDecision.delete(k);
    for (const waiter of set) waiter.wake();
  }
}
