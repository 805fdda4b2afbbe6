/**
 * `@noxy-approval/core/envelope` — the browser-safe Noxy envelope: ML-KEM-768 backends, key
 * checks, seal and open. No Node built-ins anywhere below this entry.
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
} from './kem.js';
export {
  ZERO_SEED_PUBLIC_KEY_SHA256,
  assertDecapsulationKey,
  assertEncapsulationKey,
  encapsulationKeyProblem,
  publicKeyOfSecretKey,
  type EncapsulationKeyProblem,
} from './key-check.js';
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
} from './envelope.js';
export { authenticationFailed, webCryptoAead, type Aead } from './aead.js';
export { NoxyError, type NoxyErrorCode } from '../errors.js';
