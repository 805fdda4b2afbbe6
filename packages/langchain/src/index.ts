/**
 * @noxy-approval/langchain — LangChain.js integration: the `request_human_approval` tool, a
 * wrapper that runs a tool only when the user approved that exact call on their device, and a
 * `createAgent` middleware that gates chosen tool calls. All three are adapters over
 * `@noxy-approval/core`'s engine and gate.
 *
 * Every export is public API.
 * @module
 */
export {
  createApprovalTool,
  type ApprovalToolArtifact,
  type ApprovalToolError,
  type ApprovalToolOptions,
} from './approval-tool.js';
export type { CallPredicate, CallText, LangChainCallContext } from './context.js';
export { approvalMiddleware, type ApprovalGate, type ApprovalMiddlewareOptions } from './middleware.js';
export { PROGRESS_INTERVAL_MS, type ApprovalProgressEvent } from './progress.js';
export { withApproval, type WithApprovalOptions } from './with-approval.js';
