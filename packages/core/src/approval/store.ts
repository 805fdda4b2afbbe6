/**
 * Which decisions this agent created, so that `check_human_approval` only ever reports on
 * decisions it asked for itself, for the same identity (reliability.md §4.1.3 "replay": an
 * outcome for a foreign or unknown decision id is refused, without asking the relay).
 *
 * The default store is in memory and bounded; a horizontally scaled server passes a shared
 * store (e.g. Redis) implementing the same two methods.
 * @module
 */
import type { Identity } from '../identity.js';
import type { TerminalOutcome } from '../outcome.js';

/** What is remembered about one approval request. */
export interface ApprovalRecord {
  decisionId: string;
  identity: Identity;
  tool: string;
  actionHash: string;
  /** ms since epoch */
  expiresAt: number;
  /** Set once a terminal outcome was observed; never changes afterwards. */
  outcome?: TerminalOutcome;
  /** ms since epoch */
  decidedAt?: number;
}

/** Persistence of approval records. */
export interface ApprovalStore {
  get(decisionId: string): ApprovalRecord | undefined | Promise<ApprovalRecord | undefined>;
  set(record: ApprovalRecord): void | Promise<void>;
}

/** Bounded in-memory store: past `maxEntries`, the oldest records are forgotten first. */
export class MemoryApprovalStore implements ApprovalStore {
  private readonly records = new Map<string, ApprovalRecord>();
  constructor(private readonly maxEntries = 10_000) {}

  get(decisionId: string): ApprovalRecord | undefined {
    return this.records.get(decisionId);
  }

  set(record: ApprovalRecord): void {
    const existing = this.records.get(record.decisionId);
    // Terminal outcomes are final (E3): a later write cannot change them.
    if (existing?.outcome) return;
    this.records.delete(record.decisionId);
    this.records.set(record.decisionId, record);
    while (this.records.size > this.maxEntries) {
      const oldest = this.records.keys().next().value as string;
      this.records.delete(oldest);
    }
  }
}
