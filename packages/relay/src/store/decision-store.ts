/**
 * Decisions, per-device deliveries, outcomes, RouteDecision idempotency records and the audit
 * trail. Pure data access: the lifecycle rules live in `engine.ts`.
 * @module
 */
import type { IdentityType } from '@noxy-approval/core';
import type { Db } from './db.js';

/** Lifecycle of a decision (docs/protocol.md §9.1). The last three are terminal. */
export type DecisionStatus = 'QUEUED' | 'DELIVERED' | 'ACKNOWLEDGED' | 'APPROVED' | 'REJECTED' | 'EXPIRED';
/** The terminal statuses, which never change once written. */
export type FinalOutcome = 'APPROVED' | 'REJECTED' | 'EXPIRED';
/** Lifecycle of one device's copy of a decision. */
export type DeliveryStatus = 'QUEUED' | 'DELIVERED' | 'ACKNOWLEDGED' | 'CANCELLED';

/** Keys of a decision: outcomes are identity-wide (docs/protocol.md §6). */
export interface DecisionKey {
  appId: string;
  decisionId: string;
  identityId: string;
}

/** A decision row. */
export interface DecisionRecord extends DecisionKey {
  identityType: IdentityType;
  status: DecisionStatus;
  createdAt: number;
  expiresAt: number;
}

/** One device's copy of a decision, with the envelope forwarded unchanged. */
export interface DeliveryRecord extends DecisionKey {
  deviceId: string;
  requestId: string;
  kyberCt: Buffer;
  nonce: Buffer;
  ciphertext: Buffer;
  status: DeliveryStatus;
  createdAt: number;
  deliveredAt: number | undefined;
  ackedAt: number | undefined;
  routedAt: number | undefined;
}

/** The final answer of a decision. */
export interface OutcomeRecord extends DecisionKey {
  outcome: FinalOutcome;
  deviceId: string | undefined;
  decidedAt: number;
  receivedAt: number | undefined;
  /** The device's outcome signature and what it covers (noxy-approval extension), when sent. */
  signed?: SignedOutcome | undefined;
}

/** A device's outcome signature as received; the relay stores it, agents verify it. */
export interface SignedOutcome {
  signature: Buffer;
  decidedAt: number;
  actionHash: string;
}

/** An open delivery joined with its decision, as drained on subscribe. */
export interface OpenDelivery extends DeliveryRecord {
  decisionStatus: DecisionStatus;
  expiresAt: number;
  /** Insertion order: the cursor of the paged re-send on subscribe. */
  seq: number;
}

/** One audit event. */
export interface AuditEvent {
  seq: number;
  at: number;
  appId: string;
  decisionId: string | undefined;
  deviceId: string | undefined;
  event: string;
  detail: Record<string, unknown> | undefined;
}

/** True for APPROVED, REJECTED and EXPIRED. */
export function isFinal(status: DecisionStatus): status is FinalOutcome {
  return status === 'APPROVED' || status === 'REJECTED' || status === 'EXPIRED';
}

// Row shapes as SQLite returns them (snake_case, NULL for absent values).
interface DecisionRow {
  app_id: string;
  decision_id: string;
  identity_id: string;
  identity_type: IdentityType;
  status: DecisionStatus;
  created_at: number;
  expires_at: number;
}
interface DeliveryRow {
  app_id: string;
  decision_id: string;
  identity_id: string;
  device_id: string;
  request_id: string;
  kyber_ct: Buffer;
  nonce: Buffer;
  ciphertext: Buffer;
  status: DeliveryStatus;
  created_at: number;
  delivered_at: number | null;
  acked_at: number | null;
  routed_at: number | null;
}
interface OutcomeRow {
  app_id: string;
  decision_id: string;
  identity_id: string;
  outcome: FinalOutcome;
  device_id: string | null;
  decided_at: number;
  received_at: number | null;
  device_signature: Buffer | null;
  signed_decided_at: number | null;
  signed_action_hash: string | null;
}

const toDecision = (raw: unknown): DecisionRecord => {
  const r = raw as DecisionRow;
  return {
    appId: r.app_id,
    decisionId: r.decision_id,
    identityId: r.identity_id,
    identityType: r.identity_type,
    status: r.status,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
  };
};
const toDelivery = (raw: unknown): DeliveryRecord => {
  const r = raw as DeliveryRow;
  return {
    appId: r.app_id,
    decisionId: r.decision_id,
    identityId: r.identity_id,
    deviceId: r.device_id,
    requestId: r.request_id,
    kyberCt: r.kyber_ct,
    nonce: r.nonce,
    ciphertext: r.ciphertext,
    status: r.status,
    createdAt: r.created_at,
    deliveredAt: r.delivered_at ?? undefined,
    ackedAt: r.acked_at ?? undefined,
    routedAt: r.routed_at ?? undefined,
  };
};
const toOutcome = (raw: unknown): OutcomeRecord => {
  const r = raw as OutcomeRow;
  return {
    appId: r.app_id,
    decisionId: r.decision_id,
    identityId: r.identity_id,
    outcome: r.outcome,
    deviceId: r.device_id ?? undefined,
    decidedAt: r.decided_at,
    receivedAt: r.received_at ?? undefined,
    signed:
      r.device_signature === null
        ? undefined
        : {
            signature: r.device_signature,
            decidedAt: r.signed_decided_at ?? 0,
            actionHash: r.signed_action_hash ?? '',
          },
  };
};

const OPEN = `('QUEUED', 'DELIVERED', 'ACKNOWLEDGED')`;

/** Prepared statements over decisions, deliveries, outcomes, route requests and audit. */
export class DecisionStore {
  readonly #s;

  constructor(db: Db) {
    const key = 'app_id = ? AND decision_id = ? AND identity_id = ?';
    this.#s = {
      getDecision: db.prepare(`SELECT * FROM decisions WHERE ${key}`),
      insertDecision: db.prepare(
        `INSERT INTO decisions (app_id, decision_id, identity_id, identity_type, status, created_at, expires_at)
         VALUES (?, ?, ?, ?, 'QUEUED', ?, ?)`,
      ),
      // Status only moves forward: QUEUED → DELIVERED → ACKNOWLEDGED; terminal rows never change.
      toDelivered: db.prepare(`UPDATE decisions SET status = 'DELIVERED' WHERE ${key} AND status = 'QUEUED'`),
      toAcknowledged: db.prepare(
        `UPDATE decisions SET status = 'ACKNOWLEDGED' WHERE ${key} AND status IN ('QUEUED', 'DELIVERED')`,
      ),
      dueDecisions: db.prepare(
        `SELECT * FROM decisions WHERE status IN ${OPEN} AND expires_at <= ? ORDER BY expires_at LIMIT ?`,
      ),
      getDelivery: db.prepare('SELECT * FROM deliveries WHERE app_id = ? AND decision_id = ? AND device_id = ?'),
      insertDelivery: db.prepare(
        `INSERT INTO deliveries (app_id, decision_id, device_id, identity_id, request_id, kyber_ct, nonce, ciphertext,
          status, created_at, delivered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      markDelivered: db.prepare(
        `UPDATE deliveries SET status = 'DELIVERED', delivered_at = ? ` +
          `WHERE app_id = ? AND decision_id = ? AND device_id = ?
         AND status = 'QUEUED'`,
      ),
      markAcked: db.prepare(
        `UPDATE deliveries SET status = 'ACKNOWLEDGED', acked_at = ? ` +
          `WHERE app_id = ? AND decision_id = ? AND device_id = ?
         AND status IN ('QUEUED', 'DELIVERED')`,
      ),
      markRouted: db.prepare(
        'UPDATE deliveries SET routed_at = ? ' +
          'WHERE app_id = ? AND decision_id = ? AND device_id = ? AND routed_at IS NULL',
      ),
      deliveriesOf: db.prepare(`SELECT * FROM deliveries WHERE ${key} ORDER BY seq`),
      cancel: db.prepare(
        `UPDATE deliveries SET status = 'CANCELLED' ` +
          `WHERE app_id = ? AND decision_id = ? AND device_id = ? AND status = 'QUEUED'`,
      ),
      openOfDevice: db.prepare(
        `SELECT l.*, d.status AS decision_status, d.expires_at AS decision_expires_at
         FROM deliveries l JOIN decisions d
           ON d.app_id = l.app_id AND d.decision_id = l.decision_id AND d.identity_id = l.identity_id
         WHERE l.device_id = ? AND l.seq > ? AND l.status <> 'CANCELLED' AND l.routed_at IS NULL
         ORDER BY l.seq LIMIT ?`,
      ),
      getOutcome: db.prepare(`SELECT * FROM outcomes WHERE ${key}`),
      insertOutcome: db.prepare(
        `INSERT OR IGNORE INTO outcomes (app_id, decision_id, identity_id, outcome, device_id, decided_at, received_at,
           device_signature, signed_decided_at, signed_action_hash)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      finalize: db.prepare(`UPDATE decisions SET status = ? WHERE ${key} AND status IN ${OPEN}`),
      getRequest: db.prepare('SELECT status, decision_id FROM route_requests WHERE app_id = ? AND request_id = ?'),
      insertRequest: db.prepare(
        'INSERT INTO route_requests (app_id, request_id, status, decision_id, created_at) VALUES (?, ?, ?, ?, ?)',
      ),
      audit: db.prepare(
        'INSERT INTO audit_events (at, app_id, decision_id, device_id, event, detail) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      auditOf: db.prepare('SELECT * FROM audit_events WHERE app_id = ? AND decision_id = ? ORDER BY seq'),
      statusCounts: db.prepare('SELECT status, COUNT(*) AS n FROM decisions GROUP BY status'),
    };
  }

  /** The decision with this key. */
  getDecision(k: DecisionKey): DecisionRecord | undefined {
    const row = this.#s.getDecision.get(k.appId, k.decisionId, k.identityId);
    return row ? toDecision(row) : undefined;
  }

  /** Inserts a QUEUED decision. */
  insertDecision(k: DecisionKey, identityType: IdentityType, createdAt: number, expiresAt: number): void {
    this.#s.insertDecision.run(k.appId, k.decisionId, k.identityId, identityType, createdAt, expiresAt);
  }

  /** Moves a non-terminal decision forward to `to`; false when it was already there or beyond. */
  advanceDecision(k: DecisionKey, to: 'DELIVERED' | 'ACKNOWLEDGED'): boolean {
    const statement = to === 'DELIVERED' ? this.#s.toDelivered : this.#s.toAcknowledged;
    return statement.run(k.appId, k.decisionId, k.identityId).changes === 1;
  }

  /** Open decisions whose expiry is at or before `nowMs`, earliest first. */
  dueDecisions(nowMs: number, limit: number): DecisionRecord[] {
    return this.#s.dueDecisions.all(nowMs, limit).map(toDecision);
  }

  /** One device's copy of a decision. */
  getDelivery(appId: string, decisionId: string, deviceId: string): DeliveryRecord | undefined {
    const row = this.#s.getDelivery.get(appId, decisionId, deviceId);
    return row ? toDelivery(row) : undefined;
  }

  /** Inserts a delivery, QUEUED or (when the device is live) already DELIVERED. */
  insertDelivery(d: Omit<DeliveryRecord, 'ackedAt' | 'routedAt'>): void {
    this.#s.insertDelivery.run(
      d.appId,
      d.decisionId,
      d.deviceId,
      d.identityId,
      d.requestId,
      d.kyberCt,
      d.nonce,
      d.ciphertext,
      d.status,
      d.createdAt,
      d.deliveredAt ?? null,
    );
  }

  /** QUEUED → DELIVERED. */
  markDelivered(appId: string, decisionId: string, deviceId: string, nowMs: number): boolean {
    return this.#s.markDelivered.run(nowMs, appId, decisionId, deviceId).changes === 1;
  }

  /** QUEUED/DELIVERED → ACKNOWLEDGED; false when already acknowledged or cancelled. */
  markAcked(appId: string, decisionId: string, deviceId: string, nowMs: number): boolean {
    return this.#s.markAcked.run(nowMs, appId, decisionId, deviceId).changes === 1;
  }

  /** Records that the device knows the decision is closed (answered it or got decision_routed). */
  markRouted(appId: string, decisionId: string, deviceId: string, nowMs: number): boolean {
    return this.#s.markRouted.run(nowMs, appId, decisionId, deviceId).changes === 1;
  }

  /** QUEUED → CANCELLED (the device never saw it and never will). */
  cancelDelivery(appId: string, decisionId: string, deviceId: string): boolean {
    return this.#s.cancel.run(appId, decisionId, deviceId).changes === 1;
  }

  /** All deliveries of a decision. */
  deliveriesOf(k: DecisionKey): DeliveryRecord[] {
    return this.#s.deliveriesOf.all(k.appId, k.decisionId, k.identityId).map(toDelivery);
  }

  /**
   * A device's deliveries that still need an event or a decision_routed notice, oldest first.
   * @param afterSeq only those after this cursor (a previous page's last `seq`; 0 = from the start)
   */
  openDeliveriesOfDevice(deviceId: string, limit: number, afterSeq = 0): OpenDelivery[] {
    return this.#s.openOfDevice.all(deviceId, afterSeq, limit).map((r) => {
      const row = r as { decision_status: DecisionStatus; decision_expires_at: number; seq: number };
      return {
        ...toDelivery(r),
        decisionStatus: row.decision_status,
        expiresAt: row.decision_expires_at,
        seq: row.seq,
      };
    });
  }

  /** The final outcome of a decision, if any. */
  getOutcome(k: DecisionKey): OutcomeRecord | undefined {
    const row = this.#s.getOutcome.get(k.appId, k.decisionId, k.identityId);
    return row ? toOutcome(row) : undefined;
  }

  /**
   * Writes the final outcome and the decision's terminal status. First write wins: returns
   * false (and changes nothing) when an outcome already exists.
   */
  finalize(o: OutcomeRecord): boolean {
    const inserted =
      this.#s.insertOutcome.run(
        o.appId,
        o.decisionId,
        o.identityId,
        o.outcome,
        o.deviceId ?? null,
        o.decidedAt,
        o.receivedAt ?? null,
        o.signed?.signature ?? null,
        o.signed?.decidedAt ?? null,
        o.signed?.actionHash ?? null,
      ).changes === 1;
    if (inserted) this.#s.finalize.run(o.outcome, o.appId, o.decisionId, o.identityId);
    return inserted;
  }

  /** The stored answer of an earlier RouteDecision with this request id. */
  getRouteRequest(appId: string, requestId: string): { status: number; decisionId: string } | undefined {
    const row = this.#s.getRequest.get(appId, requestId) as { status: number; decision_id: string } | undefined;
    return row && { status: row.status, decisionId: row.decision_id };
  }

  /** Remembers the answer of a RouteDecision for its request id. */
  insertRouteRequest(appId: string, requestId: string, status: number, decisionId: string, nowMs: number): void {
    this.#s.insertRequest.run(appId, requestId, status, decisionId, nowMs);
  }

  /** Appends an audit event. `detail` must hold no secret, key or ciphertext. */
  audit(
    at: number,
    appId: string,
    decisionId: string | undefined,
    deviceId: string | undefined,
    event: string,
    detail?: Record<string, unknown>,
  ): void {
    this.#s.audit.run(at, appId, decisionId ?? null, deviceId ?? null, event, detail ? JSON.stringify(detail) : null);
  }

  /** Every audit event of a decision id within an app, in order. */
  auditOf(appId: string, decisionId: string): AuditEvent[] {
    return this.#s.auditOf.all(appId, decisionId).map((raw) => {
      const r = raw as {
        seq: number;
        at: number;
        app_id: string;
        decision_id: string | null;
        device_id: string | null;
        event: string;
        detail: string | null;
      };
      return {
        seq: r.seq,
        at: r.at,
        appId: r.app_id,
        decisionId: r.decision_id ?? undefined,
        deviceId: r.device_id ?? undefined,
        event: r.event,
        detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : undefined,
      };
    });
  }

  /** Decision counts by status. */
  statusCounts(): Partial<Record<DecisionStatus, number>> {
    const out: Partial<Record<DecisionStatus, number>> = {};
    for (const raw of this.#s.statusCounts.all()) {
      const r = raw as { status: DecisionStatus; n: number };
      out[r.status] = r.n;
    }
    return out;
  }
}
