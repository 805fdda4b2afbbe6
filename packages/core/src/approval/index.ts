/**
 * The approval engine, the gate, decision handles and the shared tool definition (re-exported
 * by core's root entry).
 * @module
 */
export {
  MAX_ACTION_BYTES,
  actionFingerprint,
  actionHashInput,
  buildApprovalPayload,
  canonicalJson,
  checkActionHash,
  computeActionHash,
  type ActionHashCheck,
  type AgentInfo,
  type ApprovalPayload,
  type BuildPayloadInput,
  type HashedAction,
} from './action.js';
export {
  createApprovalEngine,
  toApprovalOutput,
  type ApprovalCallOptions,
  type ApprovalContext,
  type ApprovalEngine,
  type ApprovalEngineOptions,
  type ApprovalRequest,
  type ApprovalResult,
} from './engine.js';
export {
  executeApproved,
  resumeGated,
  runGated,
  type GateResult,
  type GatedAction,
  type NotExecutedReason,
  type PreparedCall,
} from './gate.js';
export { HANDLE_PREFIX, looksLikeHandle } from './handle.js';
export { checkIdentitySource, resolveIdentity, type IdentitySource } from './identity-source.js';
export { outcomeMessage, type MessageFacts, type PendingHint } from './messages.js';
export { MemoryApprovalStore, type ApprovalRecord, type ApprovalStore } from './store.js';
export { defaultTitle, setupWrapper, type ApprovalWrapperOptions, type WrapperSetup } from './wrapper.js';
export {
  APPROVAL_TOOL_DESCRIPTION,
  APPROVAL_TOOL_NAME,
  CHECK_APPROVAL_TOOL_DESCRIPTION,
  CHECK_APPROVAL_TOOL_NAME,
  approvalInputSchema,
  approvalOutputSchema,
  checkApprovalInputSchema,
  type ApprovalInput,
  type ApprovalOutput,
  type CheckApprovalInput,
} from './tool-definition.js';
