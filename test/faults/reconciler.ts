/**
 * The fault suite's ledger and reconciler (matrix E1–E5 of the reliability bar): a run records
 * what the agent client was told (sends, every outcome it observed, when it acted) and what the
 * relay acknowledged to devices; after the run — after the relay's last restart — `reconcile`
 * asks the relay again and counts what was lost or changed. Every C row calls it and prints
 * its figures, so a fault that loses or flips a decision fails the row that caused it.
 * @module
 */
import type { DecisionOutcome } from '@noxy-approval/core';

/** What the relay answers for one decision after the run, or `missing` (NOT_FOUND). */
export type Lookup = (decisionId: string, identity: string) => Promise<DecisionOutcome | 'missing'>;

/** E1–E5 counts (all must be 0) and the number of decisions checked. */
export interface Reconciliation {
  checked: number;
  /** E1: sends the client saw delivered that the relay no longer knows. */
  e1Missing: number;
  /** E2: device answers the relay acknowledged that GetDecisionOutcome does not return. */
  e2Missing: number;
  /** E3: terminal outcomes that changed (across the run's polls and the final lookup). */
  e3Flips: number;
  /** E4: actions run twice, or on anything but APPROVED, or with a mismatched action hash. */
  e4Violations: number;
  /** E5: actions run at or after the decision's `expires_at`. */
  e5Late: number;
}

const TERMINAL = new Set<DecisionOutcome>(['approved', 'rejected', 'expired']);

/** One run's record. */
export class Ledger {
  private readonly sends = new Map<string, { identity: string; expiresAt: number; actionHash?: string }>();
  private readonly acks = new Map<string, 'approved' | 'rejected'>();
  private readonly seen = new Map<string, DecisionOutcome[]>();
  private readonly actions = new Map<
    string,
    { runs: number; outcome: DecisionOutcome; at: number; actionHash?: string }
  >();

  /** A send the client reported delivered (it got a DeliveryOutcome). */
  sent(decisionId: string, identity: string, expiresAt: number, actionHash?: string): void {
    this.sends.set(decisionId, { identity, expiresAt, ...(actionHash ? { actionHash } : {}) });
  }

  /** A device answer the relay acknowledged (`decide` resolved with the recorded outcome). */
  acked(decisionId: string, outcome: 'approve' | 'reject'): void {
    this.acks.set(decisionId, outcome === 'approve' ? 'approved' : 'rejected');
  }

  /** An outcome the client observed (a poll or a wait's result). */
  observed(decisionId: string, outcome: DecisionOutcome): void {
    const list = this.seen.get(decisionId) ?? [];
    list.push(outcome);
    this.seen.set(decisionId, list);
  }

  /**
   * Runs the agent's wrapped action the way a gate does: only on an approved outcome, so the
   * reconciler can count whatever ran anyway (a second run, a run on another outcome, a late run).
   * @param at the client clock when the action ran
   */
  act(decisionId: string, outcome: DecisionOutcome, at: number, actionHash?: string): boolean {
    const prior = this.actions.get(decisionId);
    if (prior && prior.runs > 0) {
      prior.runs++;
      return false;
    }
    if (outcome !== 'approved') return false;
    this.actions.set(decisionId, { runs: 1, outcome, at, ...(actionHash ? { actionHash } : {}) });
    return true;
  }

  /** Decision ids the client saw delivered. */
  get decisionIds(): string[] {
    return [...this.sends.keys()];
  }

  /** Asks the relay about every recorded decision and counts E1–E5 violations. */
  async reconcile(lookup: Lookup): Promise<Reconciliation> {
    const r: Reconciliation = { checked: 0, e1Missing: 0, e2Missing: 0, e3Flips: 0, e4Violations: 0, e5Late: 0 };
    const ids = new Set([...this.sends.keys(), ...this.acks.keys()]);
    for (const id of ids) {
      r.checked++;
      const send = this.sends.get(id);
      const now = await lookup(id, send?.identity ?? '');
      if (send && now === 'missing') r.e1Missing++;
      const ack = this.acks.get(id);
      if (ack && now !== ack) r.e2Missing++;
      const history = [...(this.seen.get(id) ?? []), ...(now === 'missing' ? [] : [now])];
      const first = history.find((o) => TERMINAL.has(o));
      if (first && history.some((o) => o !== first && o !== 'pending' && TERMINAL.has(o))) r.e3Flips++;
      // A pending seen after a terminal outcome is a flip back (the relay forgot the answer).
      if (first && history.slice(history.indexOf(first)).includes('pending')) r.e3Flips++;
      const action = this.actions.get(id);
      if (action) {
        if (action.runs > 1 || action.outcome !== 'approved' || now !== 'approved') r.e4Violations++;
        if (send?.actionHash !== undefined && action.actionHash !== send.actionHash) r.e4Violations++;
        if (send && action.at >= send.expiresAt) r.e5Late++;
      }
    }
    return r;
  }
}

/** Prints one figure of a matrix row, one line, so a CI log can be grepped for it. */
export function figure(row: string, name: string, value: string | number, target?: string): void {
  const line = `[fault ${row}] ${name}: ${value}${target ? `  (target ${target})` : ''}`;
  process.stdout.write(`${line}\n`);
}

/** Prints the reconciliation of a run. */
export function printReconciliation(row: string, r: Reconciliation): void {
  figure(
    row,
    'reconciler',
    `${r.checked} decisions; E1 missing ${r.e1Missing}, E2 missing ${r.e2Missing}, E3 flips ${r.e3Flips}, ` +
      `E4 violations ${r.e4Violations}, E5 late ${r.e5Late}`,
    'all 0',
  );
}

/** The p-th percentile (0–100) of `values`, nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** A seeded PRNG (mulberry32), so a failing run can be replayed with its printed seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
