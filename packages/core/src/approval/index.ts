/**
 * The approval engine and the shared tool definition (re-exported by core's root entry).
 * @module
 */
export {
  buildApprovalPayload,
  canonicalJson,
  computeActionHash,
  actionHashInput,
  type AgentInfo,
  type ApprovalPayload,
  type BuildPayloadInput,
} from './action.js';
export {
  createApprovalEngine,
  parseOrThrow,
  toApprovalOutput,
  type ApprovalCallOptions,
  type ApprovalEngine,
  type ApprovalEngineOptions,
  type ApprovalResult,
} from './engine.js';
export { outcomeMessage, type MessageFacts } from './messages.js';
export { MemoryApprovalStore, type ApprovalRecord, type ApprovalStore } from './store.js';
export {
  APPROVAL_TOOL_DESCRIPTION,
  APPROVAL_TOOL_NAME,
  CHECK_APPROVAL_TOOL_DESCRIPTION,
  CHECK_APPROVAL_TOOL_NAME,
  MAX_ACTION_BYTES,
  approvalInputSchema,
  approvalOutputSchema,
  checkApprovalInputSchema,
  type ApprovalInput,
  type ApprovalOutput,
  type CheckApprovalInput,
} from './tool-definition.js';
