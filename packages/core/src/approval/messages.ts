/**
 * What the model reads for each outcome (docs/security.md §3.1). A host timeout is never reported as
 * rejected or expired: the wait ends as `pending`. How to check again is the wrapper's to say
 * (MCP names its check tool; a wrapper that always waits to the end has nothing to add).
 * @module
 */
import type { DecisionOutcome } from '../outcome.js';
import type { VerificationFailure } from '../outcome-verification.js';

/** Facts a message may mention. */
export interface MessageFacts {
  tool: string;
  decisionId: string;
  expiresAt: string;
  /** The decision handle, which resumes the wait from any process with the same configuration. */
  handle: string;
}

/** The wrapper's sentence on how to keep waiting for a `pending` decision. */
export type PendingHint = (facts: MessageFacts) => string;

/** The text the model reads for an outcome. */
export function outcomeMessage(outcome: DecisionOutcome, f: MessageFacts, pendingHint?: PendingHint): string {
  switch (outcome) {
    case 'approved':
      return (
        `The user approved "${f.tool}" on their device. You may proceed with exactly the arguments you submitted; ` +
        'any change needs a new approval.'
      );
    case 'rejected':
      return (
        `The user rejected "${f.tool}" on their device. Do not perform it, do not retry it, and do not try to ` +
        'work around it. Tell the user it was not done.'
      );
    case 'expired':
      return (
        `No answer arrived before the deadline (${f.expiresAt}); "${f.tool}" was not approved and nothing was ` +
        'executed. Do not perform it.'
      );
    case 'pending': {
      const base =
        `The user has not answered yet; "${f.tool}" is NOT approved and nothing was executed. The request stays ` +
        `open until ${f.expiresAt}. Do not perform the action before it is approved.`;
      return pendingHint ? `${base} ${pendingHint(f)}` : base;
    }
  }
}

/** The text for a terminal outcome that an earlier call already reported. */
export function repeatedOutcomeMessage(outcome: DecisionOutcome, f: MessageFacts): string {
  if (outcome === 'approved') {
    return (
      `This approval of "${f.tool}" (decision_id "${f.decisionId}") was already reported. It covers a single ` +
      'execution of exactly the submitted arguments: do not perform the action again because of this answer; ' +
      'request a new approval if it is needed again.'
    );
  }
  return `${outcomeMessage(outcome, f)} (This outcome was already reported.)`;
}

/** The gate refused: the arguments about to run are not the approved ones. */
export function actionMismatchMessage(f: MessageFacts): string {
  return (
    `The approval (decision_id "${f.decisionId}") does not cover these arguments of "${f.tool}": their action_hash ` +
    'differs from the approved one. Nothing was executed. Request a new approval for the new arguments.'
  );
}

/** The gate refused: this approval was already used for its one execution. */
export function alreadyExecutedMessage(f: MessageFacts): string {
  return (
    `The approval (decision_id "${f.decisionId}") of "${f.tool}" was already used for its one execution; ` +
    'nothing was executed again. Request a new approval if it is needed again.'
  );
}

const UNVERIFIED_WHY: Record<VerificationFailure, string> = {
  unsigned: 'it carries no device signature (an official device, or a relay that removed it)',
  unknown_device: "it is signed by a device that is not one of this user's known devices",
  wrong_device: 'the relay presents a different key for the signing device than the one pinned for it',
  bad_signature: "its signature does not verify with the device's pinned key (forged or altered)",
  wrong_decision: 'the device signed an answer to a different decision',
  wrong_action: 'the device signed an answer for a different action than the one submitted',
  lookup_failed: "the signing device's key could not be fetched from the relay to check it",
};

/**
 * The relay reported an approval that this agent could not verify as signed by the user's
 * device, while device signatures are required (docs/security.md §10).
 */
export function unverifiedApprovalMessage(reason: VerificationFailure, f: MessageFacts): string {
  return (
    `The relay reported an approval of "${f.tool}" (decision_id "${f.decisionId}") that could not be verified: ` +
    `${UNVERIFIED_WHY[reason]} (reason: ${reason}). It is treated as NOT approved and nothing was executed. ` +
    'Do not perform the action; tell the user the approval could not be verified.'
  );
}
