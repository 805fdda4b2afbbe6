/**
 * Builders of `noxy.device.DeviceResponse` messages, shared by the gRPC stream and the
 * WebSocket gateway (which converts them to JSON), and the reading of a device's signed
 * `decision_outcome` (docs/security.md "Security model").
 * @module
 */
import { verifyEd25519 } from '@noxy-approval/core';
import { outcomeMessage } from '@noxy-approval/core/portable';
import { device } from '@noxy-approval/proto';
import type { DeviceRecord, SignedOutcome } from './store/index.js';

const MAX_ACTION_HASH = 200;

type Payload = NonNullable<device.DeviceResponse['payload']>;

/**
 * A successful answer to a request.
 * @param requestId the request's id (docs/protocol.md §10.3: every request gets exactly one answer)
 * @param payload the oneof answer
 * @param nowMs relay clock
 */
export function okResponse(requestId: string, payload: Payload, nowMs: number): device.DeviceResponse {
  return { requestId, status: device.ResponseStatus.OK, timestamp: BigInt(nowMs), payload };
}

/**
 * An `error` answer.
 * @param requestId the failing request's id ('' when it could not be read)
 * @param code the device ErrorCode
 * @param message a human-readable reason (never a secret)
 * @param nowMs relay clock
 * @param retryable whether the same request may succeed later
 */
export function errorResponse(
  requestId: string,
  code: device.ErrorCode,
  message: string,
  nowMs: number,
  retryable = false,
): device.DeviceResponse {
  return {
    requestId,
    status: device.ResponseStatus.ERROR,
    timestamp: BigInt(nowMs),
    payload: { $case: 'error', value: { code, message, retryable } },
  };
}

/**
 * An unsolicited `decision_event`; `message_id` is the decision id (contract "Ids").
 * @param decisionId the decision
 * @param envelope the agent's envelope, forwarded unchanged
 * @param nowMs relay clock
 */
export function decisionEventResponse(
  decisionId: string,
  envelope: { kyberCt: Buffer; nonce: Buffer; ciphertext: Buffer },
  nowMs: number,
): device.DeviceResponse {
  return {
    requestId: '',
    messageId: decisionId,
    status: device.ResponseStatus.OK,
    timestamp: BigInt(nowMs),
    payload: {
      $case: 'decisionEvent',
      value: { kyberCt: envelope.kyberCt, nonce: envelope.nonce, ciphertext: envelope.ciphertext },
    },
  };
}

/**
 * An unsolicited `decision_routed` (soft cancel: the decision was closed elsewhere or expired).
 * @param decisionId the closed decision
 * @param nowMs relay clock
 */
export function decisionRoutedResponse(decisionId: string, nowMs: number): device.DeviceResponse {
  return {
    requestId: '',
    messageId: decisionId,
    status: device.ResponseStatus.OK,
    timestamp: BigInt(nowMs),
    payload: { $case: 'decisionRouted', value: { decisionId } },
  };
}

/**
 * The outcome signature of a `decision_outcome`, checked against the deciding device's key over
 * what it claims to sign (app, identity, decision id, outcome, action_hash, decided_at). The relay
 * cannot read the payload, so the agent checks the action_hash and decision again; this check only
 * keeps a malformed or foreign signature from being stored and forwarded as if it were good.
 * @returns the signature to store, undefined for an unsigned answer (official SDKs), or a refusal
 */
export function signedOutcomeOf(
  dev: DeviceRecord,
  o: device.DecisionOutcome,
  outcome: 'APPROVE' | 'REJECT',
): SignedOutcome | { code: device.ErrorCode; message: string } | undefined {
  const signature = o.outcomeSignature ?? Buffer.alloc(0);
  if (signature.length === 0) return undefined;
  const invalid = (message: string) => ({ code: device.ErrorCode.INVALID_SIGNATURE, message });
  const actionHash = o.actionHash ?? '';
  const decidedAt = Number(o.decidedAt ?? 0n);
  if (actionHash.length > MAX_ACTION_HASH || /[\u0000-\u001f\u007f]/.test(actionHash))
    return invalid(`"decision_outcome.action_hash" expected at most ${MAX_ACTION_HASH} printable characters`);
  if (!Number.isSafeInteger(decidedAt) || decidedAt <= 0)
    return invalid('"decision_outcome.decided_at" expected ms since the epoch with a signed outcome');
  const message = outcomeMessage({
    appId: dev.appId,
    identityId: dev.identityId,
    decisionId: o.decisionId,
    outcome,
    actionHash,
    decidedAt,
  });
  if (!verifyEd25519(dev.publicKey, message, signature))
    return invalid('"decision_outcome.outcome_signature" does not verify with this device\'s Ed25519 key');
  return { signature: Buffer.from(signature), decidedAt, actionHash };
}
