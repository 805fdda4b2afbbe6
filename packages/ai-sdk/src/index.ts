/**
 * @noxy-approval/ai-sdk — the Vercel AI SDK (6 and 7) on top of core's approval engine and
 * gate: the `request_human_approval` tool, a gating wrapper for any tool, AI SDK 7's
 * `toolApproval` answered on the user's device, and AI SDK 6's `needsApproval` requests
 * answered the same way. No approval logic lives here; core decides what an approval means.
 *
 * Every export is public API.
 * @module
 */
export {
  APPROVAL_TOOL,
  approvalTool,
  type ApprovalNotRequired,
  type ApprovalToolOptions,
  type ApprovalToolOutput,
} from './approval-tool.js';
export type { AiSdkCallContext, ExecuteOptionsLike } from './context.js';
export type { DecideOptions, ToolCallInfo } from './decide.js';
export type { ApprovalPredicate, CallText, NoxyAiSdkOptions } from './options.js';
export { isApprovalRefusal, type ApprovalRefusal } from './refusal.js';
export {
  createToolApprovalResolver,
  resolveToolApprovals,
  type ToolApprovalRequestPart,
  type ToolApprovalResolver,
  type ToolApprovalResolverOptions,
  type ToolApprovalResponseMessage,
  type ToolApprovalResponsePart,
  type ToolApprovalsInput,
} from './resolve-tool-approvals.js';
export {
  noxyToolApproval,
  noxyToolApprovalMap,
  type NoxySingleToolApproval,
  type NoxyToolApprovalFunction,
  type NoxyToolApprovalOptions,
  type NoxyToolApprovalStatus,
  type ToolApprovalOptionsLike,
  type ToolApprovalRequestLike,
} from './tool-approval.js';
export { withApproval, type ExecutableToolLike, type ToolInput, type WithApprovalOptions } from './with-approval.js';
