/**
 * `@noxy-approval/core/portable` — everything of core that runs anywhere (browsers, workers,
 * Node): the envelope (ML-KEM-768 backends, key checks, seal and open), identities, endpoint
 * rules, the error type, and the one canonical-JSON / `action_hash` / fingerprint module that
 * agents, devices and the gate share. No Node built-ins below this entry; the device's browser
 * bundle imports it (a test bundles it for the browser).
 *
 * Every export is public API.
 * @module
 */
export {
  ML_KEM_768,
  createLiboqsBackend,
  createMlkemBackend,
  loadKemBackend,
  type KemBackend,
  type KemChoice,
  type KemEncapsulation,
  type KemKeyPair,
} from './envelope/kem.js';
export {
  ZERO_SEED_PUBLIC_KEY_SHA256,
  assertDecapsulationKey,
  assertEncapsulationKey,
  encapsulationKeyProblem,
  publicKeyOfSecretKey,
  type EncapsulationKeyProblem,
} from './envelope/key-check.js';
export {
  NONCE_BYTES,
  TAG_BYTES,
  cryptoRandomBytes,
  deriveEnvelopeKey,
  openEnvelope,
  sealEnvelope,
  type Envelope,
  type RandomBytes,
  type SealOptions,
} from './envelope/envelope.js';
export { authenticationFailed, webCryptoAead, type Aead } from './envelope/aead.js';
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
} from './approval/action.js';
export { NoxyError, type NoxyErrorCode, type NoxyErrorOptions } from './errors.js';
export {
  IDENTITY_TYPES,
  inferIdentityType,
  parseIdentity,
  type Identity,
  type IdentityInput,
  type IdentityType,
} from './identity.js';
export { isLoopbackHost, parseEndpoint, type RelayEndpoint } from './endpoint.js';
export {
  DEVICE_SIGNING_DOMAINS,
  authenticateProofMessage,
  encodeSignedFields,
  outcomeMessage,
  payloadActionHash,
  registerProofMessage,
  rotationMessage,
  type OutcomeFields,
  type ProofFrame,
  type RegisterProofFields,
  type RotationFields,
  type SignedField,
} from './device-signing.js';
