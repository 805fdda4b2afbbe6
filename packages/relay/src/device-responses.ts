/**
 * Builders of `noxy.device.DeviceResponse` messages, shared by the gRPC stream and the
 * WebSocket gateway (which converts them to JSON), and the reading of a device's signed
 * `decision_outcome` (docs/security.md §10).
 * @module
 */
import { ED25519_BYTES } from '@noxy-approval/core';
import { device } from '@noxy-approval/proto';
import type { SignedOutcome } from './store/index.js';

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
 * The outcome signature of a `decision_outcome` and the values it covers that the relay cannot
 * know (decided-at, the payload's action_hash), checked for form only. The relay is exactly the
 * party this signature guards against, so checking it here would add nothing: the agent verifies
 * it against its own pinned key and what it asked (docs/security.md §10.2), and a relay that
 * skipped verification costs nobody anything. Stored and returned as sent.
 * @returns the signature to store, undefined for an unsigned answer (official SDKs), or a refusal
 */
export function signedOutcomeOf(
  o: device.DecisionOutcome,
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
  if (signature.length !== ED25519_BYTES.signature)
    return invalid(`"decision_outcome.outcome_signature" expected ${ED25519_BYTES.signature} bytes (Ed25519)`);
  return { signature: Buffer.from(signature), decidedAt, actionHash };
}
