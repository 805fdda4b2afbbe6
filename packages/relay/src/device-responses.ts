/**
 * Builders of `noxy.device.DeviceResponse` messages, shared by the gRPC stream and the
 * WebSocket gateway (which converts them to JSON).
 * @module
 */
import { device } from '@noxy-approval/proto';

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
