/**
 * What a gated tool returns to the model when it did not run (a result, not a thrown error,
 * so the model reads why and does not retry), and the error a failed request becomes.
 * @module
 */
import { NoxyError, type GateResult, type NotExecutedReason } from '@noxy-approval/core';

/** The result of a gated call that did not run: the model reads `message`. */
export interface ApprovalRefusal {
  /** Marks the object as this package's refusal (the tool's own output never has it). */
  noxy_approval: 'not_executed';
  status: 'not_executed';
  /**
   * Why: `rejected`, `expired`, `pending`, `action_mismatch`, `already_executed`, or
   * `unverified_approval` (device signatures required and this approval did not verify).
   */
  reason: NotExecutedReason;
  tool: string;
  decision_id: string;
  /** What the model should read, e.g. "The user rejected … do not retry it". */
  message: string;
}

/**
 * Whether a gated tool's output is a refusal rather than the tool's own result.
 * @example
 * if (isApprovalRefusal(output)) console.log('not run:', output.reason);
 */
export function isApprovalRefusal(output: unknown): output is ApprovalRefusal {
  return (
    typeof output === 'object' &&
    output !== null &&
    (output as { noxy_approval?: unknown }).noxy_approval === 'not_executed'
  );
}

/**
 * The refusal for a gate result that did not run.
 * @internal
 */
export function refusalOf(r: Extract<GateResult<unknown>, { status: 'not_executed' }>): ApprovalRefusal {
  return {
    noxy_approval: 'not_executed',
    status: 'not_executed',
    reason: r.reason,
    tool: r.approval.tool,
    decision_id: r.approval.decisionId,
    message: r.message,
  };
}

/**
 * A request that failed before any answer (relay down, no device, quota…) as the error the SDK
 * reports to the model: the same code, and a message saying the tool did not run and why.
 * An abort is passed through untouched, so the caller's abort handling sees its own reason.
 * @internal
 */
export function notExecutedError(tool: string, error: unknown): unknown {
  if (!NoxyError.isInstance(error) || error.code === 'ABORTED') return error;
  return new NoxyError(
    error.code,
    `"${tool}" was not executed: the approval request failed (${error.code}: ${error.message})`,
    {
      cause: error,
      ...(error.grpcCode !== undefined ? { grpcCode: error.grpcCode } : {}),
      retryable: error.retryable,
      ...(error.field !== undefined ? { field: error.field } : {}),
    },
  );
}
