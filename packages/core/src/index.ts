/**
 * @noxy-approval/core — the Noxy agent client (wire-compatible with the official Noxy SDKs)
 * and the framework-neutral approval engine shared by the MCP, LangChain and AI SDK wrappers.
 *
 * Every export is public API.
 * @module
 */
export {
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
export type { Clock } from './clock.js';
export type { WaitResult } from './wait.js';
export type { DeviceDelivery } from './fan-out.js';
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
export { nodeAead } from './node-aead.js';
export { ED25519_BYTES, verifyEd25519, verifyEd25519Async } from './ed25519-verify.js';
export {
  createFileDeviceKeyStore,
  createMemoryDeviceKeyStore,
  type DeviceKeyStore,
  type PinnedDeviceKey,
} from './device-keys.js';
export {
  createOutcomeVerifier,
  type DeviceVerification,
  type ExpectedOutcome,
  type ListedDevice,
  type OutcomeVerifier,
  type OutcomeVerifierOptions,
  type VerificationFailure,
} from './outcome-verification.js';
export type { VerifiedWaitResult } from './client.js';
export {
  loadKemBackend,
  openEnvelope,
  sealEnvelope,
  type Aead,
  type Envelope,
  type KemBackend,
  type KemChoice,
} from './portable.js';
export {
  APPROVAL_TOOL_DESCRIPTION,
  APPROVAL_TOOL_NAME,
  CHECK_APPROVAL_TOOL_DESCRIPTION,
  CHECK_APPROVAL_TOOL_NAME,
  HANDLE_PREFIX,
  MAX_ACTION_BYTES,
  MemoryApprovalStore,
  actionFingerprint,
  actionHashInput,
  approvalInputSchema,
  approvalOutputSchema,
  buildApprovalPayload,
  canonicalJson,
  checkActionHash,
  checkApprovalInputSchema,
  checkIdentitySource,
  computeActionHash,
  createApprovalEngine,
  defaultTitle,
  executeApproved,
  looksLikeHandle,
  outcomeMessage,
  resolveIdentity,
  resumeGated,
  runGated,
  setupWrapper,
  toApprovalOutput,
  type ActionHashCheck,
  type AgentInfo,
  type ApprovalCallOptions,
  type ApprovalContext,
  type ApprovalEngine,
  type ApprovalEngineOptions,
  type ApprovalInput,
  type ApprovalOutput,
  type ApprovalPayload,
  type ApprovalRecord,
  type ApprovalRequest,
  type ApprovalResult,
  type ApprovalStore,
  type ApprovalWrapperOptions,
  type BuildPayloadInput,
  type CheckApprovalInput,
  type GateResult,
  type GatedAction,
  type HashedAction,
  type IdentitySource,
  type MessageFacts,
  type NotExecutedReason,
  type PendingHint,
  type PreparedCall,
  type WrapperSetup,
} from './approval/index.js';
