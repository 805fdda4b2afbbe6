/**
 * Proto enums ↔ the public lowercase values, in one place. Unknown enum
 * values never become `approved`: they are a protocol error (fail closed, docs/security.md §3.1).
 * @module
 */
import type { agent } from '@noxy-approval/proto';
import { NoxyError } from './errors.js';

// Wire enum numbers (agent.proto). Spelled out instead of importing the generated enums so that
// loading core does not load the gRPC stubs: they are imported lazily with the transport.
const OUTCOME = { PENDING: 0, APPROVED: 1, REJECTED: 2, EXPIRED: 3 } as const;
const DELIVERY = { DELIVERED: 0, QUEUED: 1, NO_DEVICES: 2, REJECTED: 3 } as const;
const QUOTA = { ACTIVE: 0, SUSPENDED: 1, DELETED: 2 } as const;

/** What a human decided, or that nobody has yet. */
export type DecisionOutcome = 'approved' | 'rejected' | 'expired' | 'pending';

/** Terminal outcomes: the decision will never change again. */
export type TerminalOutcome = Exclude<DecisionOutcome, 'pending'>;

/** True for approved, rejected and expired. */
export function isTerminalOutcome(outcome: DecisionOutcome): outcome is TerminalOutcome {
  return outcome !== 'pending';
}

/**
 * Interprets a GetDecisionOutcome response.
 * @throws NoxyError `PROTOCOL` for an unknown enum value, or `pending=false` with no verdict
 */
export function outcomeFromResponse(res: agent.GetDecisionOutcomeResponse): DecisionOutcome {
  switch (res.outcome as number) {
    case OUTCOME.APPROVED:
      return 'approved';
    case OUTCOME.REJECTED:
      return 'rejected';
    case OUTCOME.EXPIRED:
      return 'expired';
    case OUTCOME.PENDING:
      if (!res.pending) {
        // The official SDKs stop here and report PENDING; that hides a relay that lost track of
        // the decision. Nothing was approved, so say so loudly.
        throw new NoxyError(
          'PROTOCOL',
          'GetDecisionOutcome answered pending=false without an outcome; treating the decision as not approved',
        );
      }
      return 'pending';
    default:
      throw new NoxyError(
        'PROTOCOL',
        `GetDecisionOutcome answered an unknown outcome value ${String(res.outcome)}; ` +
          'treating the decision as not approved',
      );
  }
}

/** Status of one device in a fan-out. */
export type DeliveryStatus =
  /** the relay handed it to a connected device */
  | 'delivered'
  /** stored by the relay until the device connects */
  | 'queued'
  /** the relay knows no such device */
  | 'no_devices'
  /** the relay refused it */
  | 'rejected'
  /** the relay reported an error */
  | 'error'
  /** not sent: the device's key failed the checks (length, modulus, zero-seed, duplicate) */
  | 'refused_key'
  /** not sent: the RPC failed after retries */
  | 'failed';

/** Maps the wire DeliveryStatus (unknown numbers → `error`). */
export function deliveryStatusFromWire(status: agent.DeliveryStatus | number): DeliveryStatus {
  switch (status as number) {
    case DELIVERY.DELIVERED:
      return 'delivered';
    case DELIVERY.QUEUED:
      return 'queued';
    case DELIVERY.NO_DEVICES:
      return 'no_devices';
    case DELIVERY.REJECTED:
      return 'rejected';
    default:
      return 'error';
  }
}

/** Quota status of the app. */
export type QuotaStatus = 'active' | 'suspended' | 'deleted' | 'unknown';

/** Maps the wire QuotaStatus. */
export function quotaStatusFromWire(status: agent.QuotaStatus | number): QuotaStatus {
  switch (status as number) {
    case QUOTA.ACTIVE:
      return 'active';
    case QUOTA.SUSPENDED:
      return 'suspended';
    case QUOTA.DELETED:
      return 'deleted';
    default:
      return 'unknown';
  }
}
