/**
 * Proto enums ↔ the public lowercase values, in one place (style.md §8.3). Unknown enum
 * values never become `approved`: they are a protocol error (fail closed, reliability §4.1.5).
 * @module
 */
import { agent } from '@noxy-approval/proto';
import { NoxyError } from './errors.js';

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
  switch (res.outcome) {
    case agent.DecisionOutcome.DECISION_OUTCOME_APPROVED:
      return 'approved';
    case agent.DecisionOutcome.DECISION_OUTCOME_REJECTED:
      return 'rejected';
    case agent.DecisionOutcome.DECISION_OUTCOME_EXPIRED:
      return 'expired';
    case agent.DecisionOutcome.DECISION_OUTCOME_PENDING:
      if (!res.pending) {
        // The official SDKs stop here and report PENDING; that hides a relay that lost track of
        // the decision. Nothing was approved, so say so loudly.
        throw new NoxyError('PROTOCOL', 'GetDecisionOutcome answered pending=false without an outcome; treating the decision as not approved');
      }
      return 'pending';
    default:
      throw new NoxyError('PROTOCOL', `GetDecisionOutcome answered an unknown outcome value ${String(res.outcome)}; treating the decision as not approved`);
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
  switch (status) {
    case agent.DeliveryStatus.DELIVERED:
      return 'delivered';
    case agent.DeliveryStatus.QUEUED:
      return 'queued';
    case agent.DeliveryStatus.NO_DEVICES:
      return 'no_devices';
    case agent.DeliveryStatus.REJECTED:
      return 'rejected';
    default:
      return 'error';
  }
}

/** Quota status of the app. */
export type QuotaStatus = 'active' | 'suspended' | 'deleted' | 'unknown';

/** Maps the wire QuotaStatus. */
export function quotaStatusFromWire(status: agent.QuotaStatus | number): QuotaStatus {
  switch (status) {
    case agent.QuotaStatus.QUOTA_ACTIVE:
      return 'active';
    case agent.QuotaStatus.QUOTA_SUSPENDED:
      return 'suspended';
    case agent.QuotaStatus.QUOTA_DELETED:
      return 'deleted';
    default:
      return 'unknown';
  }
}
