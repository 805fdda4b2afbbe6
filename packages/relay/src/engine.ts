/**
 * The decision lifecycle (docs/protocol.md §9.1, docs/local-relay-contract.md), independent of any
 * transport:
 *
 *   decision  QUEUED → DELIVERED → ACKNOWLEDGED → APPROVED | REJECTED | EXPIRED
 *   delivery  QUEUED → DELIVERED → ACKNOWLEDGED, or CANCELLED when closed before it was seen
 *
 * Every change is committed (WAL, synchronous=FULL) before any byte is written to a device or
 * an answer is returned, so an acknowledged request is never lost. better-sqlite3 is
 * synchronous, so each operation below is atomic with respect to every other one in this
 * process: no two outcomes can race.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { agent } from '@noxy-approval/proto';
import { decisionEventResponse, decisionRoutedResponse } from './device-responses.js';
import type { DeviceSink, LiveRegistry } from './live-registry.js';
import type { RelayLogger } from './logger.js';
import { DRAIN_PAGE_BYTES, DRAIN_PAGE_ROWS, responseBytes } from './outbox.js';
import { OutcomeWaiters } from './outcome-waiters.js';
import {
  isFinal,
  type AppRecord,
  type DecisionKey,
  type DecisionRecord,
  type DeviceRecord,
  type FinalOutcome,
  type RelayStore,
  type SignedOutcome,
} from './store/index.js';

/** A RouteDecision (or v1 PushNotification) after validation. */
export interface RouteInput {
  requestId: string;
  /** '' lets the relay choose one (v1 push, or a client that sends none). */
  decisionId: string;
  targetDeviceId: string;
  ttlSeconds: number;
  kyberCt: Buffer;
  nonce: Buffer;
  ciphertext: Buffer;
}

/** The DeliveryOutcome of a RouteDecision. */
export interface RouteResult {
  status: agent.DeliveryStatus;
  decisionId: string;
}

/** Thrown by {@link DecisionEngine.route} when a new decision would exceed the monthly quota. */
export class QuotaExhaustedError extends Error {
  constructor(readonly quotaTotal: number) {
    super(`monthly decision quota exhausted (${quotaTotal} decisions per month)`);
    this.name = 'QuotaExhaustedError';
  }
}

/** What GetDecisionOutcome reports. */
export type OutcomeQuery =
  | { found: false }
  | { found: true; pending: true; outcome: 'PENDING' }
  | {
      found: true;
      pending: false;
      outcome: FinalOutcome;
      /** The deciding device and its outcome signature, when it sent one (docs/security.md). */
      deviceId?: string | undefined;
      signed?: SignedOutcome | undefined;
    };

/** Result of a device's `decision_outcome`. */
export type DecideResult =
  /** This answer closed the decision. */
  | { kind: 'decided'; outcome: 'APPROVED' | 'REJECTED' }
  /** An earlier answer had closed it; this is the stored one (never changed). */
  | { kind: 'final'; outcome: 'APPROVED' | 'REJECTED' }
  | { kind: 'expired' }
  | { kind: 'unknown' };

/** Options of the engine. */
export interface EngineOptions {
  store: RelayStore;
  live: LiveRegistry;
  now: () => number;
  logger: RelayLogger;
  /** TTL applied when a RouteDecision says 0 (docs/protocol.md §7: 600 s). */
  defaultTtlSeconds: number;
  /** Longer TTLs are clamped to this. */
  maxTtlSeconds: number;
  /** Most deliveries read per page of the re-send on subscribe, and per revocation. */
  maxDrain: number;
}

type Notice =
  | { kind: 'routed'; deviceId: string; decisionId: string }
  /** The decision closed: wake its held GetDecisionOutcome calls (after the transaction). */
  | { kind: 'settled'; key: DecisionKey };

/** The lifecycle rules; one instance per relay. */
export class DecisionEngine {
  readonly #o: EngineOptions;
  /**
   * Who waits for a decision to close (held GetDecisionOutcome calls, held-calls.ts): woken once
   * per decision, after the transaction that closed it.
   */
  readonly waiters = new OutcomeWaiters();

  constructor(options: EngineOptions) {
    this.#o = options;
  }

  /**
   * RouteDecision: stores the decision (once per decision id + identity) and this device's
   * copy, then writes it to the device if it is subscribed.
   * @throws QuotaExhaustedError when a new decision would exceed the app's monthly quota
   */
  route(app: AppRecord, input: RouteInput): RouteResult {
    const { store, now, live } = this.#o;
    const d = store.decisions;
    let send: { deviceId: string; decisionId: string } | undefined;
    const notices: Notice[] = [];
    const result = store.transaction((): RouteResult => {
      const t = now();
      const earlier = d.getRouteRequest(app.appId, input.requestId);
      if (earlier) return { status: earlier.status as agent.DeliveryStatus, decisionId: earlier.decisionId };
      const remember = (r: RouteResult): RouteResult => {
        d.insertRouteRequest(app.appId, input.requestId, r.status, r.decisionId, t);
        return r;
      };
      const target = store.devices.get(input.targetDeviceId);
      if (!target || target.appId !== app.appId || target.revokedAt !== undefined) {
        return remember({ status: agent.DeliveryStatus.NO_DEVICES, decisionId: '' });
      }
      const key: DecisionKey = {
        appId: app.appId,
        decisionId: input.decisionId || randomUUID(),
        identityId: target.identityId,
      };
      const existing = d.getDecision(key);
      if (existing) {
        this.#expireIfDue(existing, t, notices);
        if (d.getOutcome(key)) return remember({ status: agent.DeliveryStatus.REJECTED, decisionId: key.decisionId });
      } else {
        if (store.apps.quotaUsed(app.appId, t) >= app.quotaTotal) throw new QuotaExhaustedError(app.quotaTotal);
        const ttl =
          input.ttlSeconds === 0 ? this.#o.defaultTtlSeconds : Math.min(input.ttlSeconds, this.#o.maxTtlSeconds);
        d.insertDecision(key, target.identityType, t, t + ttl * 1000);
        store.apps.countDecision(app.appId, t);
        d.audit(t, app.appId, key.decisionId, undefined, 'decision.created', {
          requestId: input.requestId,
          ttlSeconds: ttl,
        });
      }
      const copy = d.getDelivery(app.appId, key.decisionId, target.deviceId);
      if (copy) {
        // Same decision to the same device under a new request id (e.g. Python SDK retries):
        // nothing new is stored or sent.
        const status = copy.status === 'QUEUED' ? agent.DeliveryStatus.QUEUED : agent.DeliveryStatus.DELIVERED;
        return remember({ status, decisionId: key.decisionId });
      }
      const isLive = live.isLive(target.deviceId);
      d.insertDelivery({
        ...key,
        deviceId: target.deviceId,
        requestId: input.requestId,
        kyberCt: input.kyberCt,
        nonce: input.nonce,
        ciphertext: input.ciphertext,
        status: isLive ? 'DELIVERED' : 'QUEUED',
        createdAt: t,
        deliveredAt: isLive ? t : undefined,
      });
      d.audit(t, app.appId, key.decisionId, target.deviceId, isLive ? 'delivery.delivered' : 'delivery.queued', {
        requestId: input.requestId,
      });
      if (isLive) {
        if (d.advanceDecision(key, 'DELIVERED')) d.audit(t, app.appId, key.decisionId, undefined, 'decision.delivered');
        send = { deviceId: target.deviceId, decisionId: key.decisionId };
      }
      return remember({
        status: isLive ? agent.DeliveryStatus.DELIVERED : agent.DeliveryStatus.QUEUED,
        decisionId: key.decisionId,
      });
    });
    // Committed: now it may leave the process.
    if (send) {
      live.send(send.deviceId, decisionEventResponse(send.decisionId, input, now()));
    }
    this.#dispatch(notices);
    return result;
  }

  /**
   * GetDecisionOutcome by (app, decision id, identity id). Expiry is checked lazily here, so
   * a poll never reports PENDING past `expires_at` even between sweeps.
   */
  outcome(appId: string, decisionId: string, identityId: string): OutcomeQuery {
    const { store, now } = this.#o;
    const key = { appId, decisionId, identityId };
    const notices: Notice[] = [];
    const result = store.transaction((): OutcomeQuery => {
      const decision = store.decisions.getDecision(key);
      if (!decision) return { found: false };
      this.#expireIfDue(decision, now(), notices);
      const final = store.decisions.getOutcome(key);
      return final
        ? { found: true, pending: false, outcome: final.outcome, deviceId: final.deviceId, signed: final.signed }
        : { found: true, pending: true, outcome: 'PENDING' };
    });
    this.#dispatch(notices);
    return result;
  }

  /**
   * A device's delivery ack. Accepted before or after the outcome (docs/protocol.md §10.1); after
   * a terminal outcome it only records the device's receipt.
   * @returns false when the device has no copy of that decision
   */
  ack(dev: DeviceRecord, decisionId: string, receivedAt: bigint): boolean {
    const { store, now } = this.#o;
    const d = store.decisions;
    return store.transaction(() => {
      const copy = d.getDelivery(dev.appId, decisionId, dev.deviceId);
      if (!copy) return false;
      const t = now();
      if (d.markAcked(dev.appId, decisionId, dev.deviceId, t)) {
        d.audit(t, dev.appId, decisionId, dev.deviceId, 'delivery.acknowledged', { receivedAt: Number(receivedAt) });
        if (d.advanceDecision(copy, 'ACKNOWLEDGED'))
          d.audit(t, dev.appId, decisionId, undefined, 'decision.acknowledged');
      }
      return true;
    });
  }

  /**
   * A device's answer. The first answer closes the decision for the whole identity; the other
   * devices that saw it get `decision_routed`; later answers change nothing.
   */
  decide(
    dev: DeviceRecord,
    decisionId: string,
    outcome: 'APPROVED' | 'REJECTED',
    receivedAt: bigint,
    signed?: SignedOutcome,
  ): DecideResult {
    const { store, now } = this.#o;
    const d = store.decisions;
    const notices: Notice[] = [];
    const result = store.transaction((): DecideResult => {
      const copy = d.getDelivery(dev.appId, decisionId, dev.deviceId);
      const decision = copy && d.getDecision(copy);
      if (!copy || !decision) return { kind: 'unknown' };
      const t = now();
      this.#expireIfDue(decision, t, notices);
      const earlier = d.getOutcome(copy);
      if (earlier)
        return earlier.outcome === 'EXPIRED' ? { kind: 'expired' } : { kind: 'final', outcome: earlier.outcome };
      d.finalize({
        ...decision,
        outcome,
        deviceId: dev.deviceId,
        decidedAt: t,
        receivedAt: Number(receivedAt) || undefined,
        // Stored as sent, for the agent to verify; the relay cannot check what it cannot read.
        signed,
      });
      d.markRouted(dev.appId, decisionId, dev.deviceId, t);
      d.audit(
        t,
        dev.appId,
        decisionId,
        dev.deviceId,
        outcome === 'APPROVED' ? 'decision.approved' : 'decision.rejected',
      );
      this.#closeDeliveries(decision, dev.deviceId, t, notices);
      notices.push({ kind: 'settled', key: decision });
      return { kind: 'decided', outcome };
    });
    this.#dispatch(notices);
    return result;
  }

  /**
   * Subscribes a connection and drains the first page of what the device has not seen (see
   * {@link drainPage}); the caller asks for the next pages as its connection drains.
   * @returns the cursor of the next page, undefined when nothing is left
   */
  subscribe(dev: DeviceRecord, sink: DeviceSink): number | undefined {
    this.#o.live.add(dev.deviceId, sink);
    return this.drainPage(dev, sink, 0);
  }

  /**
   * One page of the re-send on subscribe: every still-open decision (again, if it was
   * delivered before but the device reconnected — devices dedupe by message id) and a
   * `decision_routed` for each decision closed while it was away. Paged so a device with
   * thousands of open decisions never has them all in the relay's memory at once (outbox.ts).
   * @param afterSeq the previous page's cursor (0 = from the start)
   * @param rows most deliveries read
   * @param maxBytes the page ends once its events reach this many bytes (at least one is sent)
   * @returns the cursor of the next page, undefined when nothing is left
   */
  drainPage(
    dev: DeviceRecord,
    sink: DeviceSink,
    afterSeq: number,
    rows = DRAIN_PAGE_ROWS,
    maxBytes = DRAIN_PAGE_BYTES,
  ): number | undefined {
    const { store, now } = this.#o;
    const d = store.decisions;
    const out: Array<Parameters<DeviceSink['send']>[0]> = [];
    const notices: Notice[] = [];
    const next = store.transaction((): number | undefined => {
      const t = now();
      const page = d.openDeliveriesOfDevice(dev.deviceId, Math.min(rows, this.#o.maxDrain), afterSeq);
      let bytes = 0;
      for (const copy of page) {
        if (bytes >= maxBytes) return copy.seq - 1;
        if (!isFinal(copy.decisionStatus) && copy.expiresAt <= t) {
          const decision = d.getDecision(copy);
          if (decision) this.#expireIfDue(decision, t, notices);
        }
        if (d.getOutcome(copy)) {
          // Closed while the device was away. If it never saw the event there is nothing to
          // take back (the copy is cancelled); otherwise tell it, once.
          if (copy.status === 'QUEUED') {
            d.cancelDelivery(copy.appId, copy.decisionId, dev.deviceId);
            continue;
          }
          if (d.markRouted(copy.appId, copy.decisionId, dev.deviceId, t)) {
            d.audit(t, copy.appId, copy.decisionId, dev.deviceId, 'delivery.routed_notice');
            out.push(decisionRoutedResponse(copy.decisionId, t));
          }
          continue;
        }
        if (d.markDelivered(copy.appId, copy.decisionId, dev.deviceId, t)) {
          d.audit(t, copy.appId, copy.decisionId, dev.deviceId, 'delivery.delivered', { drained: true });
          if (d.advanceDecision(copy, 'DELIVERED'))
            d.audit(t, copy.appId, copy.decisionId, undefined, 'decision.delivered');
        }
        const event = decisionEventResponse(copy.decisionId, copy, t);
        bytes += responseBytes(event);
        out.push(event);
      }
      const last = page.at(-1);
      return last && page.length === Math.min(rows, this.#o.maxDrain) ? last.seq : undefined;
    });
    for (const response of out) sink.send(response);
    this.#dispatch(notices);
    return next;
  }

  /** Removes a connection's subscription. */
  unsubscribe(deviceId: string, sink: DeviceSink): void {
    this.#o.live.remove(deviceId, sink);
  }

  /**
   * Expires every open decision whose TTL has passed (the periodic sweep).
   * @param batch decisions per transaction
   * @param maxBatches bound on the work of one sweep
   * @returns how many decisions expired
   */
  sweepExpired(batch = 500, maxBatches = 20): number {
    const { store, now } = this.#o;
    let expired = 0;
    for (let i = 0; i < maxBatches; i++) {
      const notices: Notice[] = [];
      const n = store.transaction(() => {
        const t = now();
        const due = store.decisions.dueDecisions(t, batch);
        for (const decision of due) this.#expireIfDue(decision, t, notices);
        return due.length;
      });
      this.#dispatch(notices);
      expired += n;
      if (n < batch) break;
    }
    if (expired > 0) this.#o.logger.debug('decisions expired', { count: expired });
    return expired;
  }

  /** Cancels a revoked device's unseen deliveries and drops its live connections. */
  revoked(dev: DeviceRecord): void {
    const { store, now, live } = this.#o;
    // A page at a time (rows carry their envelopes, up to 4 MiB each): a device with thousands
    // of open decisions never has them all in memory at once (outbox.ts). At most maxDrain rows.
    let after = 0;
    for (let read = 0; read < this.#o.maxDrain; ) {
      const seqs = store.transaction(() => {
        const t = now();
        const page = store.decisions.openDeliveriesOfDevice(dev.deviceId, DRAIN_PAGE_ROWS, after);
        for (const copy of page) {
          if (store.decisions.cancelDelivery(copy.appId, copy.decisionId, dev.deviceId)) {
            store.decisions.audit(t, copy.appId, copy.decisionId, dev.deviceId, 'delivery.cancelled', {
              reason: 'device revoked',
            });
          }
        }
        return page.map((copy) => copy.seq);
      });
      read += seqs.length;
      if (seqs.length < DRAIN_PAGE_ROWS) break;
      after = seqs[seqs.length - 1]!;
    }
    live.removeDevice(dev.deviceId);
  }

  // Inside a transaction: closes `decision` as EXPIRED when its TTL has passed.
  #expireIfDue(decision: DecisionRecord, t: number, notices: Notice[]): void {
    if (isFinal(decision.status) || decision.expiresAt > t) return;
    const d = this.#o.store.decisions;
    if (!d.finalize({ ...decision, outcome: 'EXPIRED', deviceId: undefined, decidedAt: t, receivedAt: undefined }))
      return;
    d.audit(t, decision.appId, decision.decisionId, undefined, 'decision.expired', { expiresAt: decision.expiresAt });
    this.#closeDeliveries(decision, undefined, t, notices);
    notices.push({ kind: 'settled', key: decision });
  }

  // Inside a transaction: after a decision closed, cancel unseen copies and soft-cancel seen ones.
  #closeDeliveries(key: DecisionKey, except: string | undefined, t: number, notices: Notice[]): void {
    const d = this.#o.store.decisions;
    for (const copy of d.deliveriesOf(key)) {
      if (copy.deviceId === except || copy.routedAt !== undefined) continue;
      if (copy.status === 'QUEUED') {
        if (d.cancelDelivery(key.appId, key.decisionId, copy.deviceId)) {
          d.audit(t, key.appId, key.decisionId, copy.deviceId, 'delivery.cancelled', { reason: 'decision closed' });
        }
      } else if (this.#o.live.isLive(copy.deviceId)) {
        d.markRouted(key.appId, key.decisionId, copy.deviceId, t);
        d.audit(t, key.appId, key.decisionId, copy.deviceId, 'delivery.routed_notice');
        notices.push({ kind: 'routed', deviceId: copy.deviceId, decisionId: key.decisionId });
      }
      // A device that saw it but is offline gets the notice when it next subscribes.
    }
  }

  #dispatch(notices: Notice[]): void {
    const t = this.#o.now();
    for (const n of notices) {
      if (n.kind === 'settled') this.waiters.wake(n.key);
      else this.#o.live.send(n.deviceId, decisionRoutedResponse(n.decisionId, t));
    }
  }
}
