/**
 * The approval gate around a risky tool: ask the human through core's approval engine, and
 * run the tool only when the answer is `approved` AND the arguments about to run are the ones
 * that were approved.
 *
 * The second check is what makes an approval worth something: the engine put
 * `action_hash = SHA-256(RFC 8785 canonical { tool, args, decision_id, expires_at, agent, … })`
 * in the request the human saw (the device shows its fingerprint). Just before executing,
 * the gate recomputes that hash with core's `computeActionHash` over the arguments it is about
 * to pass to the tool, and refuses on any difference — so an agent that changes the amount
 * after approval (a bug, a prompt injection) cannot spend an approval on another action.
 * @module
 */
import {
  computeActionHash,
  NoxyError,
  type AgentInfo,
  type ApprovalEngine,
  type ApprovalResult,
  type Identity,
} from '@noxy-approval/core';
import { actionFingerprint } from '@noxy-approval/device';
import { safe, type DemoLog } from './log.js';

/** A tool call to gate, with the text the human reads next to it. */
export interface GatedCall {
  tool: string;
  args: Record<string, unknown>;
  /** Agent-written; shown to the human labelled as unverified. */
  title: string;
  summary?: string;
}

/** Options of {@link runGated}. */
export interface GateOptions {
  engine: ApprovalEngine;
  /** Who is asked: configuration, never model-written arguments. */
  identity: Identity;
  /** The same `agent` the engine was created with: it is part of the hashed action. */
  agent: AgentInfo;
  /** Longest wait for the human, ms; the decision's own expiry ends it earlier. */
  holdMs: number;
  signal?: AbortSignal;
  log: DemoLog;
  /**
   * The arguments the agent actually passes at execution time; unchanged by default.
   * Used by `--tamper` to simulate an agent that changes them after approval.
   */
  argsAtExecution?: (approved: Record<string, unknown>) => Record<string, unknown>;
}

/** What the gate did; `message` is what the model is told. */
export type GateResult =
  | { status: 'executed'; approval: ApprovalResult; result: unknown; message: string }
  | {
      status: 'not_executed';
      reason: 'rejected' | 'expired' | 'pending' | 'action_mismatch';
      approval: ApprovalResult;
      message: string;
    };

/** Result of {@link checkBinding}. */
export interface BindingCheck {
  ok: boolean;
  /** The approved `action_hash`. */
  approved: string;
  /** The hash of the action about to run. */
  actual: string;
}

/**
 * Recomputes the action hash over the tool and arguments about to run and compares it with
 * the approved one. The other hashed fields (decision id, expiry, agent) come from the
 * approval itself, so the hash matches only for this decision and this exact action.
 */
export function checkBinding(
  approval: ApprovalResult,
  tool: string,
  args: Record<string, unknown>,
  agent: AgentInfo,
): BindingCheck {
  const actual = computeActionHash({
    decision_id: approval.decisionId,
    tool,
    args,
    expires_at: approval.expiresAt,
    agent,
  });
  return { ok: actual === approval.actionHash && tool === approval.tool, approved: approval.actionHash, actual };
}

const fp = (hash: string) => actionFingerprint(hash) ?? '?';

/**
 * Asks for approval of `call` and runs `execute` only if approved and bound to the same action.
 * Outcomes are results: rejected, expired and pending all mean "not executed".
 * @throws NoxyError when the request cannot be made at all (e.g. `NO_DEVICES`, `ABORTED`):
 *   nothing is executed then either
 */
export async function runGated(
  call: GatedCall,
  execute: (args: Record<string, unknown>) => unknown,
  o: GateOptions,
): Promise<GateResult> {
  // Snapshot what is submitted for approval: later changes to the model's object must not
  // silently become "what was approved".
  const submitted = structuredClone(call.args);
  o.log.say('gate', `"${safe(call.tool)}" is a risky tool: asking the user's device before running it`);
  o.log.say(
    'gate',
    `sending the request to every device of ${o.identity.type}:${safe(o.identity.id)}, end-to-end encrypted (ML-KEM-768 + AES-256-GCM), then waiting for the answer`,
  );
  const started = Date.now();
  const approval = await o.engine.requestApproval(
    { tool: call.tool, args: submitted, title: call.title, ...(call.summary ? { summary: call.summary } : {}) },
    { identity: o.identity, holdMs: o.holdMs, ...(o.signal ? { signal: o.signal } : {}) },
  );
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  o.log.say(
    'gate',
    `outcome: ${approval.outcome} after ${seconds} s (decision ${safe(approval.decisionId)}, fingerprint ${fp(approval.actionHash)})`,
  );

  if (approval.outcome !== 'approved') {
    // Fail closed: rejected, expired and pending (still unanswered) all mean "do not run".
    return { status: 'not_executed', reason: approval.outcome, approval, message: approval.message };
  }

  // Exactly what will be handed to the tool: a private copy, so it cannot change after the check.
  const toRun = structuredClone(o.argsAtExecution ? o.argsAtExecution(structuredClone(submitted)) : submitted);
  const binding = checkBinding(approval, call.tool, toRun, o.agent);
  if (!binding.ok) {
    o.log.say(
      'gate',
      `binding check FAILED: the action about to run hashes to ${fp(binding.actual)}, the approval is for ${fp(binding.approved)}`,
    );
    o.log.say('gate', 'refusing to run it: an approval covers exactly the arguments the user saw');
    const message =
      `The approval (decision ${approval.decisionId}) does not cover these arguments: their action_hash differs from the approved one. ` +
      `Nothing was executed. Request a new approval for the new arguments.`;
    return { status: 'not_executed', reason: 'action_mismatch', approval, message };
  }
  o.log.say(
    'gate',
    `binding check: computeActionHash(arguments about to run) = approved action_hash ${fp(binding.approved)} ✓ (any other argument would differ)`,
  );
  const result = execute(toRun);
  return { status: 'executed', approval, result, message: approval.message };
}

/** True when `error` is the abort of a wait the demo cancelled itself (Ctrl+C). */
export function isAbort(error: unknown): boolean {
  return NoxyError.isInstance(error) && error.code === 'ABORTED';
}
