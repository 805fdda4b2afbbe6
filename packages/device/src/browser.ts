/**
 * `@noxy-approval/device/browser` — the browser-safe part of the device: no Node built-ins,
 * no gRPC. WebSocket transport, memory key store (or your own {@link KeyStore}), display.
 *
 * Every export is public API.
 * @module
 */
export { createBrowserNoxyDevice, type NoxyDeviceBrowserOptions } from './browser-device.js';
export {
  NoxyDevice,
  type Choice,
  type DecideResult,
  type DeviceEvents,
  type DeviceState,
  type NoxyDeviceOptions,
} from './device.js';
export type { ReceivedDecision } from './decision.js';
export { autoDecide, type AutoDecideOptions } from './auto.js';
export type { DeviceBaseOptions } from './setup.js';
export type { BackoffOptions } from './backoff.js';
export type { Unsubscribe } from './events.js';
export {
  createMemoryKeyStore,
  decodeStoredDevice,
  encodeStoredDevice,
  storeKeyId,
  type KeyStore,
  type StoreKey,
  type StoredDevice,
} from './key-store.js';
export type { DeviceKeys } from './keys.js';
export { DeviceRelayError } from './session.js';
export {
  nobleEd25519Sign,
  requestProver,
  signOutcome,
  type Ed25519Sign,
  type ProverState,
} from './proofs.js';
export {
  createWebSocketTransport,
  webSocketUrl,
  type WebSocketConstructor,
  type WebSocketLike,
  type WebSocketTransportOptions,
} from './transport-ws.js';
export type { Transport, TransportConnection, TransportHandlers } from './transport.js';
export { hasSubtleCrypto, nobleAead } from './noble-aead.js';
export { renderDecision, renderValue, type RenderOptions } from './render.js';
export { escapeText, quoteText, isUnsafeCodePoint } from './escape.js';
export { parseStrictJson, type StrictJson } from './json-strict.js';
export {
  registrationMessage,
  registrationSignature,
  verifyRegistrationSignature,
  type RegistrationFields,
} from './registration.js';
