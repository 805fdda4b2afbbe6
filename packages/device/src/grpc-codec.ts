/**
 * Maps the device's wire model to and from the ts-proto types of `noxy.device`
 * (docs/protocol.md §5.2). Node only: `@noxy-approval/proto` imports `@grpc/grpc-js`.
 * @module
 */
import { NoxyError, type IdentityType } from '@noxy-approval/core';
import { device } from '@noxy-approval/proto';
import {
  DEVICE_ERROR_CODES,
  type DeviceErrorCode,
  type OutcomeValue,
  type ResponsePayload,
  type WirePublicKeys,
  type WireRequest,
  type WireResponse,
} from './wire.js';

const IDENTITY_ENUM: Record<IdentityType, device.IdentityType> = {
  wallet: device.IdentityType.IDENTITY_TYPE_WALLET,
  email: device.IdentityType.IDENTITY_TYPE_EMAIL,
  phone: device.IdentityType.IDENTITY_TYPE_PHONE,
  user_id: device.IdentityType.IDENTITY_TYPE_USER_ID,
};

const OUTCOME_ENUM: Record<OutcomeValue, device.DecisionOutcomeValue> = {
  APPROVE: device.DecisionOutcomeValue.APPROVE,
  REJECT: device.DecisionOutcomeValue.REJECT,
};

const buf = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
const pubkeys = (k: WirePublicKeys): device.DevicePublicKeys => ({
  publicKey: buf(k.publicKey),
  pqPublicKey: buf(k.pqPublicKey),
});

/** Wallets go in `wallet_address` with `identity_id` empty; other kinds in `identity_id` (§6). */
function identityFields(
  type: IdentityType,
  id: string,
): { identityType: device.IdentityType; identityId: string; walletAddress?: string } {
  return type === 'wallet'
    ? { identityType: IDENTITY_ENUM.wallet, identityId: '', walletAddress: id }
    : { identityType: IDENTITY_ENUM[type], identityId: id };
}

/** The proto `DeviceRequest` for a wire request. */
export function toProtoRequest(r: WireRequest): device.DeviceRequest {
  const p = r.payload;
  let payload: device.DeviceRequest['payload'];
  switch (p.kind) {
    case 'authenticate':
      payload = {
        $case: 'authenticate',
        value: { devicePubkeys: pubkeys(p.keys), ...(p.proof ? { deviceProof: buf(p.proof) } : {}) },
      };
      break;
    case 'registerDevice':
      payload = {
        $case: 'registerDevice',
        value: {
          devicePubkeys: pubkeys(p.keys),
          signature: buf(p.signature),
          type: p.deviceType,
          ...identityFields(p.identityType, p.identityId),
          ...(p.proof ? { deviceProof: buf(p.proof) } : {}),
        },
      };
      break;
    case 'subscribeDecisions':
      payload = { $case: 'subscribeDecisions', value: { subscribe: p.subscribe } };
      break;
    case 'revokeDevice':
      payload = { $case: 'revokeDevice', value: { walletAddress: p.identityId, signature: buf(p.signature) } };
      break;
    case 'rotateDeviceKeys':
      payload = {
        $case: 'rotateDeviceKeys',
        value: {
          newPubkeys: pubkeys(p.newKeys),
          signature: buf(p.signature),
          ...identityFields(p.identityType, p.identityId),
          ...(p.proof ? { rotationProof: buf(p.proof) } : {}),
        },
      };
      break;
    case 'decisionOutcome':
      payload = {
        $case: 'decisionOutcome',
        value: {
          decisionId: p.decisionId,
          outcome: OUTCOME_ENUM[p.outcome],
          receivedAt: BigInt(p.receivedAt),
          ...(p.signed
            ? {
                outcomeSignature: buf(p.signed.signature),
                decidedAt: BigInt(p.signed.decidedAt),
                actionHash: p.signed.actionHash,
              }
            : {}),
        },
      };
      break;
    case 'decisionAck':
      payload = { $case: 'decisionAck', value: { decisionId: p.decisionId, receivedAt: BigInt(p.receivedAt) } };
      break;
  }
  return {
    requestId: r.requestId,
    appId: r.appId,
    deviceId: r.deviceId,
    sessionId: r.sessionId,
    timestamp: BigInt(r.timestamp),
    nonce: buf(r.nonce),
    payload,
  };
}

function outcomeOf(v: device.DecisionOutcomeValue): OutcomeValue {
  if (v === device.DecisionOutcomeValue.APPROVE) return 'APPROVE';
  if (v === device.DecisionOutcomeValue.REJECT) return 'REJECT';
  throw new NoxyError('PROTOCOL', `the relay sent an unknown decision outcome value ${String(v)}`);
}

// uint64 ms timestamps stay far below 2^53, so Number is exact.
const ms = (v: bigint) => Number(v);

function errorName(code: device.ErrorCode): DeviceErrorCode {
  const name = (DEVICE_ERROR_CODES as readonly string[])[code];
  return name === undefined ? `UNKNOWN_${code}` : (name as DeviceErrorCode);
}

function payloadOf(p: NonNullable<device.DeviceResponse['payload']>): ResponsePayload {
  switch (p.$case) {
    case 'authenticate': {
      const r: ResponsePayload & { kind: 'authenticate' } = {
        kind: 'authenticate',
        requiresRegistration: p.value.requiresRegistration,
      };
      if (p.value.deviceId) r.deviceId = p.value.deviceId;
      if (p.value.sessionId) r.sessionId = p.value.sessionId;
      return r;
    }
    case 'registerDevice':
      return {
        kind: 'registerDevice',
        deviceId: p.value.deviceId,
        registeredAt: ms(p.value.registeredAt),
        sessionId: p.value.sessionId,
      };
    case 'subscribeDecisions':
      return { kind: 'subscribeDecisions', subscribed: p.value.subscribed };
    case 'revokeDevice':
      return { kind: 'revokeDevice', revokedDeviceId: p.value.revokedDeviceId };
    case 'rotateDeviceKeys':
      return { kind: 'rotateDeviceKeys', rotatedAt: ms(p.value.rotatedAt) };
    case 'decisionOutcome':
      return { kind: 'decisionOutcome', decisionId: p.value.decisionId, outcome: outcomeOf(p.value.outcome) };
    case 'decisionEvent':
      return {
        kind: 'decisionEvent',
        kyberCt: new Uint8Array(p.value.kyberCt),
        nonce: new Uint8Array(p.value.nonce),
        ciphertext: new Uint8Array(p.value.ciphertext),
      };
    case 'decisionRouted':
      return { kind: 'decisionRouted', decisionId: p.value.decisionId };
    case 'decisionAck':
      return { kind: 'decisionAck', decisionId: p.value.decisionId };
    case 'error':
      return { kind: 'error', code: errorName(p.value.code), message: p.value.message, retryable: p.value.retryable };
  }
}

/** The wire response for a proto `DeviceResponse`. */
export function fromProtoResponse(r: device.DeviceResponse): WireResponse {
  const out: WireResponse = {
    requestId: r.requestId,
    status: r.status === device.ResponseStatus.ERROR ? 'ERROR' : 'OK',
    timestamp: ms(r.timestamp),
  };
  if (r.messageId !== undefined) out.messageId = r.messageId;
  if (r.payload) out.payload = payloadOf(r.payload);
  return out;
}
