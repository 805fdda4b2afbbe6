/**
 * @noxy-approval/core — the Noxy agent client (wire-compatible with the official Noxy SDKs)
 * and the framework-neutral approval engine shared by the MCP, LangChain and AI SDK wrappers.
 *
 * Every export is public API.
 * @module
 */
export {
  assertDelivered,
  checkTtl,
  createNoxyClient,
  DEFAULT_TTL_SECONDS,
  MAX_TTL_SECONDS,
  type IdentityDevice,
  type NoxyClient,
  type NoxyClientOptions,
  type OutcomeSnapshot,
  type Quota,
  type RpcTimeouts,
  type SendDecisionOptions,
  type SentDecision,
  type SentPush,
  type WaitOptions,
} from './client.js';
export {
  NoxyError,
  describe as describeValue,
  invalidArgument,
  type NoxyErrorCode,
  type NoxyErrorOptions,
} from './errors.js';
export {
  IDENTITY_TYPES,
  inferIdentityType,
  parseIdentity,
  type Identity,
  type IdentityInput,
  type IdentityType,
} from './identity.js';
export { assertAuthToken, isLoopbackHost, parseEndpoint, type RelayEndpoint } from './endpoint.js';
export {
  isTerminalOutcome,
  type DecisionOutcome,
  type DeliveryStatus,
  type QuotaStatus,
  type TerminalOutcome,
} from './outcome.js';
export type { DeviceDelivery } from './fan-out.js';
export { serializeDecision, MAX_DECISION_BYTES } from './payload.js';
export { systemClock, type Clock } from './clock.js';
export { backoffDelay, POLL_BACKOFF, RETRY_BACKOFF, type BackoffPolicy } from './backoff.js';
export { PollScheduler } from './poll-scheduler.js';
export { waitForOutcome, DEFAULT_GRACE_MS, type WaitDeps, type WaitLoopOptions, type WaitResult } from './wait.js';
export { nodeAead } from './node-aead.js';
export {
  loadKemBackend,
  openEnvelope,
  sealEnvelope,
  type Aead,
  type Envelope,
  type KemBackend,
  type KemChoice,
} from './envelope/index.js';
export {
  APPROVAL_TOOL_DESCRIPTION,
  APPROVAL_TOOL_NAME,
  CHECK_APPROVAL_TOOL_DESCRIPTION,
  CHECK_APPROVAL_TOOL_NAME,
  MAX_ACTION_BYTES,
  MemoryApprovalStore,
  actionHashInput,
  approvalInputSchema,
  approvalOutputSchema,
  buildApprovalPayload,
  canonicalJson,
  checkApprovalInputSchema,
  computeActionHash,
  createApprovalEngine,
  outcomeMessage,
  parseOrThrow,
  toApprovalOutput,
  type AgentInfo,
  type ApprovalCallOptions,
  type ApprovalEngine,
  type ApprovalEngineOptions,
  type ApprovalInput,
  type ApprovalOutput,
  type ApprovalPayload,
  type ApprovalRecord,
  type ApprovalResult,
  type ApprovalStore,
  type CheckApprovalInput,
} from './approval/index.js';
