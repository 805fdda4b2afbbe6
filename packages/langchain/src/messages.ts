/**
 * What the model reads when nobody could be asked (fail closed): which cause, and that
 * nothing was done. The outcome texts themselves (approved / rejected / expired / pending) are
 * core's, so every wrapper says the same.
 * @module
 */
import type { NoxyError, NoxyErrorCode } from '@noxy-approval/core';

const CAUSES: Partial<Record<NoxyErrorCode, string>> = {
  RELAY_UNAVAILABLE: 'the approval relay could not be reached',
  NO_DEVICES: 'the user has no device paired to approve on',
  QUOTA_EXHAUSTED: "the app's approval quota is used up",
  RATE_LIMITED: 'the approval relay is rate-limiting this app',
  UNAUTHENTICATED: "the approval relay refused the app's credentials",
  PERMISSION_DENIED: "the approval relay refused the app's credentials",
  INVALID_ARGUMENT: 'the approval request was invalid',
  CLOSED: 'the approval client was closed',
};

/**
 * The text for a call whose approval could not be asked or awaited.
 * @example
 * unavailableMessage('transfer_funds', err)
 * // 'Could not ask the user to approve "transfer_funds": the user has no device paired to approve on
 * //  (NO_DEVICES: …). Nothing was executed. Do not perform it; tell the user it was not done.'
 */
export function unavailableMessage(tool: string, error: NoxyError): string {
  const cause = CAUSES[error.code] ?? 'the approval could not be completed';
  return (
    `Could not ask the user to approve "${tool}": ${cause} (${error.code}: ${error.message}). ` +
    'Nothing was executed. Do not perform it or work around it; tell the user it was not done and why.'
  );
}

/** The model-facing hint for a `pending` result: LangChain has no check tool, the app resumes. */
export function pendingHint(f: { handle: string }): string {
  return (
    `The application can keep waiting with the handle "${f.handle}"; do not ask again for the same action ` +
    'now, and tell the user the approval is still open.'
  );
}
