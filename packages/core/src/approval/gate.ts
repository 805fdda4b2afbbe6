/**
 * The approval gate: ask, wait, and run the wrapped action — at most once per approval, only
 * on `approved`, only with a private copy of exactly the submitted arguments, only when
 * `computeActionHash` over what is about to run equals the approved `action_hash`, and never
 * at or after the decision's `expires_at`. Every wrapper's "run the tool only if approved" is
 * this function; none has a gate of its own.
 *
 * Why the hash check matters: the human approved the action whose fingerprint their device
 * showed. An agent that changes an argument after the approval (a bug, a prompt injection)
 * must not be able to spend that approval on another action, so the gate recomputes the hash
 * over the tool and arguments it is about to pass, right before passing them.
 *
 * With device signatures required (engine option `requireDeviceSignature`), an approval that
 * was not verified as signed by the user's device for this decision and action never runs:
 * reason `unverified_approval`, with the verification failure (docs/security.md §10).
 *
 * Outcomes are results; errors before or during the wait (relay down, no device, abort) are
 * thrown as `NoxyError` — in every case, nothing ran.
 * @module
 */
import { computeActionHash } from './action.js';
import type { ApprovalContext, ApprovalEngine, ApprovalRequest, ApprovalResult } from './engine.js';
import type { VerificationFailure } from '../outcome-verification.js';
import {
  actionMismatchMessage,
  alreadyExecutedMessage,
  outcomeMessage,
  unverifiedApprovalMessage,
} from './messages.js';

/** Why the gate did not run the action. */
export type NotExecutedReason =
  | 'rejected'
  | 'expired'
  | 'pending'
  | 'action_mismatch'
  | 'already_executed'
  | 'unverified_approval';

/** What the gate did; `message` is what the model is told. */
export type GateResult<R> =
  | { status: 'executed'; approval: ApprovalResult; result: R; message: string }
  | {
      status: 'not_executed';
      reason: NotExecutedReason;
      approval: ApprovalResult;
      message: string;
      /** For `action_mismatch`: the hash of the action that was about to run (for logs). */
      attemptedActionHash?: string;
      /** For `unverified_approval`: why the device signature did not verify. */
      verificationFailure?: VerificationFailure;
    };

/** The action behind the gate: receives its own copy of the approved arguments. */
export type GatedAction<A extends Record<string, unknown>, R> = (args: A) => R | Promise<R>;

/** A tool call as it is about to run. */
export interface PreparedCall<A extends Record<string, unknown> = Record<string, unknown>> {
  tool: string;
  args: A;
}

type NotExecuted = Extract<GateResult<never>, { status: 'not_executed' }>;

function refuse(approval: ApprovalResult, reason: NotExecutedReason, message: string): NotExecuted {
  return { status: 'not_executed', reason, approval, message };
}

const factsOf = (a: ApprovalResult) => ({
  tool: a.tool,
  decisionId: a.decisionId,
  expiresAt: a.expiresAt,
  handle: a.handle,
});

/**
 * Runs `action` with `call.args` if `approval` allows exactly this call now. The step after a
 * request or a resume, on its own for callers that obtained the approval themselves.
 * @param approval what `engine.request` or `engine.resume` returned
 * @param call the tool and arguments about to run (copied before they are checked)
 */
export async function executeApproved<A extends Record<string, unknown>, R>(
  engine: ApprovalEngine,
  approval: ApprovalResult,
  call: PreparedCall<A>,
  action: GatedAction<A, R>,
): Promise<GateResult<R>> {
  // Checked first: an unverified approval is reported as rejected, but the model must hear why.
  const unverified =
    approval.unverifiedApproval ??
    // (A repeat of an approval carries no verification: it was verified when first reported.)
    (engine.requireDeviceSignature &&
    approval.outcome === 'approved' &&
    !approval.alreadyReported &&
    approval.verification?.verified !== true
      ? (approval.verification?.reason ?? 'unsigned')
      : undefined);
  if (unverified) {
    return {
      ...refuse(approval, 'unverified_approval', unverifiedApprovalMessage(unverified, factsOf(approval))),
      verificationFailure: unverified,
    };
  }
  if (approval.outcome !== 'approved') return refuse(approval, approval.outcome, approval.message);
  if (approval.alreadyReported) return refuse(approval, 'already_executed', alreadyExecutedMessage(factsOf(approval)));
  // A private copy, taken before the check: nothing can change what runs after it was checked.
  const toRun = structuredClone(call.args);
  const actual = computeActionHash({
    decision_id: approval.decisionId,
    tool: call.tool,
    args: toRun,
    expires_at: approval.expiresAt,
    agent: approval.agent,
  });
  if (call.tool !== approval.tool || actual !== approval.actionHash) {
    return {
      ...refuse(approval, 'action_mismatch', actionMismatchMessage(factsOf(approval))),
      attemptedActionHash: actual,
    };
  }
  if (!(await engine.claimExecution(approval))) {
    return refuse(approval, 'already_executed', alreadyExecutedMessage(factsOf(approval)));
  }
  // Fail closed on time, checked last (a shared store's claim may take a while): an approval is
  // good only before the deadline the human saw.
  if (engine.clock.now() >= Date.parse(approval.expiresAt)) {
    return refuse(approval, 'expired', outcomeMessage('expired', factsOf(approval)));
  }
  const result = await action(toRun);
  return { status: 'executed', approval, result, message: approval.message };
}

/**
 * Asks for approval of `request` and runs `action` only if it is approved and bound to these
 * exact arguments. The arguments are copied at once: changes to the caller's object after this
 * call change neither what is asked nor what runs.
 * @throws NoxyError when the request cannot be made or the wait fails (`NO_DEVICES`,
 *   `RELAY_UNAVAILABLE`, `ABORTED`, …): nothing runs then either
 * @example
 * const r = await runGated(engine, { tool: 'transfer_funds', args, title: 'Send 25 USDC to Bob' },
 *   (approved) => bank.transfer(approved), { identity: 'alice@example.com' });
 * if (r.status === 'executed') console.log(r.result); else console.log(r.reason, r.message);
 */
export async function runGated<A extends Record<string, unknown>, R>(
  engine: ApprovalEngine,
  request: ApprovalRequest & { args: A },
  action: GatedAction<A, R>,
  context: ApprovalContext,
): Promise<GateResult<R>> {
  const submitted = structuredClone(request.args);
  const approval = await engine.request({ ...request, args: submitted }, context);
  return executeApproved(engine, approval, { tool: request.tool, args: submitted }, action);
}

/**
 * Resumes a pending decision (by handle or id) and runs `action` with `call.args` if the
 * decision was approved for exactly that call — e.g. after a restart, in another replica.
 * @throws NoxyError `NOT_FOUND` for an unknown, foreign or forged reference (no relay call)
 */
export async function resumeGated<A extends Record<string, unknown>, R>(
  engine: ApprovalEngine,
  ref: string,
  call: PreparedCall<A>,
  action: GatedAction<A, R>,
  context: ApprovalContext,
): Promise<GateResult<R>> {
  const submitted = structuredClone(call.args);
  const approval = await engine.resume(ref, context);
  return executeApproved(engine, approval, { tool: call.tool, args: submitted }, action);
}
