/**
 * What the engine remembers about the approvals it asked for: whose they are (so a check by
 * another identity, principal or session is refused like an unknown id, without asking the
 * relay), whether a terminal outcome was already reported (an approval covers one execution),
 * and whether the gate already ran the action.
 *
 * The default store is in memory and bounded. Resuming after a restart does not need it —
 * decision handles carry what is needed (handle.ts) — but "reported once" and "executed once"
 * are only as wide as the store: a deployment with replicas passes a shared store (SQLite,
 * Redis, a database table) implementing these methods atomically.
 * @module
 */
import type { Identity } from '../identity.js';
import type { TerminalOutcome } from '../outcome.js';
import type { AgentInfo } from './action.js';

/** What is remembered about one approval request. */
export interface ApprovalRecord {
  decisionId: string;
  identity: Identity;
  /** Who created it: an authenticated principal, an MCP session, or `''` (the identity alone). */
  owner: string;
  tool: string;
  actionHash: string;
  /** ms since the epoch */
  expiresAt: number;
  agent?: AgentInfo | undefined;
  /** The caller's idempotency key (scoped to owner and identity by the engine), when given. */
  key?: string | undefined;
  /** Set once a terminal outcome was observed; never changes afterwards. */
  outcome?: TerminalOutcome;
  /** ms since the epoch */
  decidedAt?: number;
}

/** Persistence of approval records. Every method may be async. */
export interface ApprovalStore {
  get(decisionId: string): ApprovalRecord | undefined | Promise<ApprovalRecord | undefined>;
  /** The record made with this (scoped) idempotency key, if any. */
  getByKey(key: string): ApprovalRecord | undefined | Promise<ApprovalRecord | undefined>;
  /** Remembers a pending record, unless one exists for the id (then keeps the existing one). */
  add(record: ApprovalRecord): void | Promise<void>;
  /**
   * Records a terminal outcome. Returns true only for the first caller: the one that reports
   * it. Atomic in a shared store, so two waiters on one decision report it once.
   */
  settle(decisionId: string, outcome: TerminalOutcome, decidedAt: number): boolean | Promise<boolean>;
  /**
   * Claims the one execution an approval allows: true only for the first caller. Atomic. A claim
   * must be kept at least until `expiresAt` (ms since the epoch); after it the gate refuses anyway.
   */
  claimExecution(decisionId: string, expiresAt: number, now: number): boolean | Promise<boolean>;
}

/** Bounded in-memory store: past `maxEntries`, the oldest records are forgotten first. */
export class MemoryApprovalStore implements ApprovalStore {
  private readonly records = new Map<string, ApprovalRecord>();
  private readonly byKey = new Map<string, string>();
  /** decision id → expiry; kept apart from the records so evicting a record never forgets a claim. */
  private readonly executed = new Map<string, number>();

  /** @param maxEntries records kept before the oldest are forgotten (default 10,000) */
  constructor(private readonly maxEntries = 10_000) {}

  get(decisionId: string): ApprovalRecord | undefined {
    const record = this.records.get(decisionId);
    return record && { ...record };
  }

  getByKey(key: string): ApprovalRecord | undefined {
    const id = this.byKey.get(key);
    return id === undefined ? undefined : this.get(id);
  }

  add(record: ApprovalRecord): void {
    if (this.records.has(record.decisionId)) return;
    this.records.set(record.decisionId, { ...record });
    if (record.key !== undefined) this.byKey.set(record.key, record.decisionId);
    while (this.records.size > this.maxEntries) {
      const oldest = this.records.keys().next().value as string;
      const key = this.records.get(oldest)?.key;
      if (key !== undefined) this.byKey.delete(key);
      this.records.delete(oldest);
    }
  }

  settle(decisionId: string, outcome: TerminalOutcome, decidedAt: number): boolean {
    const record = this.records.get(decisionId);
    // Terminal outcomes are final: a later write cannot change them.
    if (!record || record.outcome) return false;
    record.outcome = outcome;
    record.decidedAt = decidedAt;
    return true;
  }

  claimExecution(decisionId: string, expiresAt: number, now: number): boolean {
    if (this.executed.has(decisionId)) return false;
    // Claims of expired approvals can go: the gate refuses those before it asks for a claim.
    for (const [id, until] of this.executed) if (until < now) this.executed.delete(id);
    this.executed.set(decisionId, expiresAt);
    return true;
  }
}
