/**
 * @noxy-approval/relay — a real local Noxy relay: the Agent API (noxy.agent + v1 noxy.push),
 * the device Client API (gRPC stream and WebSocket JSON), a durable SQLite store, and the
 * `noxy-relay` CLI.
 *
 * Every export is public API.
 * @module
 */
export { startRelay, type Relay } from './server.js';
export { isLoopback, type RelayOptions } from './options.js';
export type { AgentFault, RelayFaults } from './faults.js';
export {
  createApp,
  createPairing,
  relayStatus,
  webPairingLink,
  DEFAULT_PAIRING_TTL_SECONDS,
  DEFAULT_QUOTA_TOTAL,
  type CreateAppOptions,
  type CreatedApp,
  type CreatePairingOptions,
  type Pairing,
  type RelayStatus,
} from './admin.js';
export { RelayStore } from './store/index.js';
export type {
  AppRecord,
  AuditEvent,
  DecisionRecord,
  DecisionStatus,
  DeliveryRecord,
  DeliveryStatus,
  DeviceRecord,
  DurabilitySettings,
  FinalOutcome,
  OutcomeRecord,
  PairingRecord,
} from './store/index.js';
export {
  createConsoleLogger,
  redactFields,
  silentLogger,
  type LogFields,
  type LogLevel,
  type RelayLogger,
} from './logger.js';
export { PAIRING_CODE_LENGTH } from './secrets.js';
export { WEB_CSP } from './http-server.js';
export { firstLanAddress, lanWarning, selfSignedCert, type SelfSignedCert } from './lan.js';
