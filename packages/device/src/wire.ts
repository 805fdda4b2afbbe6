/**
 * The device's own model of the Client API messages (docs/protocol.md §5.2), independent of any
 * encoding. The gRPC transport maps it to the ts-proto types, the WebSocket transport to the
 * JSON shapes of docs/protocol.md §5.4. Keeping this model free of `@noxy-approval/proto` (which
 * imports `@grpc/grpc-js`) is what lets the device run in a browser.
 * @module
 */
import type { IdentityType } from '@noxy-approval/core/portable';

/** The two answers a human can give (`DecisionOutcomeValue`). */
export type OutcomeValue = 'APPROVE' | 'REJECT';

/** `DevicePublicKeys`: Ed25519 (32 bytes) and ML-KEM-768 (1184 bytes) public keys. */
export interface WirePublicKeys {
  publicKey: Uint8Array;
  pqPublicKey: Uint8Array;
}

/** The oneof `DeviceRequest.payload`, tagged by `kind`. */
export type RequestPayload =
  | {
      kind: 'authenticate';
      keys: WirePublicKeys;
      /** `device_proof` (field 100): set by the session when it frames the request (proofs.ts). */
      proof?: Uint8Array;
    }
  | {
      kind: 'registerDevice';
      keys: WirePublicKeys;
      signature: Uint8Array;
      deviceType: string;
      identityType: IdentityType;
      /** Wallet identities travel in `wallet_address`, the others in `identity_id` (docs/protocol.md §6). */
      identityId: string;
      /** `device_proof` (field 100), set when framed. */
      proof?: Uint8Array;
    }
  | { kind: 'subscribeDecisions'; subscribe: boolean }
  | { kind: 'revokeDevice'; identityId: string; signature: Uint8Array }
  | {
      kind: 'rotateDeviceKeys';
      newKeys: WirePublicKeys;
      signature: Uint8Array;
      identityType: IdentityType;
      identityId: string;
      /** `rotation_proof` (field 100): the old key's announcement of the new keys, set when framed. */
      proof?: Uint8Array;
    }
  | {
      kind: 'decisionOutcome';
      decisionId: string;
      outcome: OutcomeValue;
      receivedAt: number;
      /** The signed-outcome extension (fields 100–102, docs/protocol.md §12.2). */
      signed?: { signature: Uint8Array; decidedAt: number; actionHash: string };
    }
  | { kind: 'decisionAck'; decisionId: string; receivedAt: number };

/** A `DeviceRequest` envelope. */
export interface WireRequest {
  requestId: string;
  appId: string;
  deviceId?: string;
  sessionId?: string;
  /** ms since the epoch */
  timestamp: number;
  /** 12 random bytes */
  nonce: Uint8Array;
  payload: RequestPayload;
}

/** The error codes of `ErrorResponse.code`, by name (docs/protocol.md §5.2). */
export const DEVICE_ERROR_CODES = [
  'UNAUTHORIZED',
  'INVALID_SIGNATURE',
  'INVALID_NONCE',
  'REPLAY_DETECTED',
  'DEVICE_NOT_FOUND',
  'DEVICE_REVOKED',
  'APP_NOT_FOUND',
  'APP_QUOTA_EXCEEDED',
  'RATE_LIMITED',
  'INVALID_REQUEST',
  'INTERNAL_ERROR',
] as const;

/** A relay error code name, or `UNKNOWN_<n>` for a value this client does not know. */
export type DeviceErrorCode = (typeof DEVICE_ERROR_CODES)[number] | `UNKNOWN_${string}`;

/** The oneof `DeviceResponse.payload`, tagged by `kind`. */
export type ResponsePayload =
  | { kind: 'authenticate'; requiresRegistration: boolean; deviceId?: string; sessionId?: string }
  | { kind: 'registerDevice'; deviceId: string; registeredAt: number; sessionId: string }
  | { kind: 'subscribeDecisions'; subscribed: boolean }
  | { kind: 'revokeDevice'; revokedDeviceId: string }
  | { kind: 'rotateDeviceKeys'; rotatedAt: number }
  | { kind: 'decisionOutcome'; decisionId: string; outcome: OutcomeValue }
  | { kind: 'decisionEvent'; kyberCt: Uint8Array; nonce: Uint8Array; ciphertext: Uint8Array }
  | { kind: 'decisionRouted'; decisionId: string }
  | { kind: 'decisionAck'; decisionId: string }
  | { kind: 'error'; code: DeviceErrorCode; message: string; retryable: boolean };

/** A `DeviceResponse` envelope. `payload` is absent when the relay sent none. */
export interface WireResponse {
  requestId: string;
  messageId?: string;
  status: 'OK' | 'ERROR';
  timestamp: number;
  payload?: ResponsePayload;
}

/**
 * The response payload answering request kind `K`: every request is answered by the response
 * variant of the same name (or by `error`).
 */
export type ResponseFor<K extends RequestPayload['kind']> = Extract<ResponsePayload, { kind: K }>;
