/**
 * @noxy-approval/core — the Noxy agent client and the framework-neutral approval engine.
 *
 * Every export is public API.
 * @module
 */
export { NoxyError, type NoxyErrorCode, type NoxyErrorOptions } from './errors.js';
export {
  IDENTITY_TYPES,
  inferIdentityType,
  parseIdentity,
  type Identity,
  type IdentityInput,
  type IdentityType,
} from './identity.js';
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
