/**
 * What the model reads for each outcome (design.md §5). A host timeout is never reported as
 * rejected or expired: the wait ends as `pending`, with the decision id to check again.
 * @module
 */
import type { DecisionOutcome } from '../outcome.js';

/** Facts the message may mention. */
export interface MessageFacts {
  tool: string;
  decisionId: string;
  expiresAt: string;
}

/** The text for a terminal outcome that an earlier call already reported. */
export function repeatedOutcomeMessage(outcome: DecisionOutcome, f: MessageFacts): string {
  if (outcome === 'approved') {
    return `This approval of "${f.tool}" (decision_id "${f.decisionId}") was already reported. It covers a single execution of exactly the submitted arguments: do not perform the action again because of this answer; request a new approval if it is needed again.`;
  }
  return `${outcomeMessage(outcome, f)} (This outcome was already reported.)`;
}

/** The text the model reads for an outcome. */
export function outcomeMessage(outcome: DecisionOutcome, f: MessageFacts): string {
  switch (outcome) {
    case 'approved':
      return `The user approved "${f.tool}" on their device. You may proceed with exactly the arguments you submitted; any change needs a new approval.`;
    case 'rejected':
      return `The user rejected "${f.tool}" on their device. Do not perform it, do not retry it, and do not try to work around it. Tell the user it was not done.`;
    case 'expired':
      return `No answer arrived before the deadline (${f.expiresAt}); "${f.tool}" was not approved and nothing was executed. Do not perform it.`;
    case 'pending':
      return `The user has not answered yet; "${f.tool}" is NOT approved. Call check_human_approval with decision_id "${f.decisionId}" to keep waiting (the request stays open until ${f.expiresAt}). Do not perform the action before it returns "approved".`;
  }
}
