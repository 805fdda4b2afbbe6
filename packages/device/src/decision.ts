/**
 * Turning a `decision_event` into a decision the human can see: decrypt (core's openEnvelope),
 * decode UTF-8 strictly, parse JSON strictly, and resolve the decision id. Errors never carry
 * decrypted content, so they can be surfaced and logged safely.
 * @module
 */
import { NoxyError, openEnvelope, type Aead, type KemBackend } from '@noxy-approval/core/portable';
import { parseStrictJson, type StrictJson } from './json-strict.js';

/** A decrypted decision, as handed to the app. The payload is for the user's own display only. */
export interface ReceivedDecision {
  /** The id to answer with (`decide`): the payload's `decision_id`, else the relay `message_id`. */
  decisionId: string;
  /** The relay's message id (what the delivery ack names). */
  messageId: string;
  /** The decrypted, strictly parsed JSON payload. */
  payload: StrictJson;
  /** When this device received it (ms since epoch). */
  receivedAt: number;
}

/** The encrypted fields of a `DecisionEvent`. */
export interface EncryptedDecision {
  kyberCt: Uint8Array;
  nonce: Uint8Array;
  ciphertext: Uint8Array;
}

/**
 * The decision id carried by a payload, as the official SDKs resolve it (docs/protocol.md §3):
 * `decision_id`, then `decisionId`, then `message_id`; `undefined` when none is a non-empty string.
 */
export function payloadDecisionId(payload: StrictJson): string | undefined {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
  for (const key of ['decision_id', 'decisionId', 'message_id']) {
    const v = (payload as Record<string, StrictJson>)[key];
    if (typeof v === 'string' && v.length > 0) return v;
  }
  return undefined;
}

/**
 * Decrypts and parses one decision event. Tries each ML-KEM secret key in turn (the current
 * one, then the one replaced by a recent key rotation, for events sealed before it).
 * @throws NoxyError `CRYPTO` when no key opens it; `PROTOCOL` for bad UTF-8 / JSON, or when
 *   the payload's decision id differs from the relay's message id (the relay-local contract
 *   makes them equal; a mismatch means the human could approve a different decision than the
 *   one routed, so it is refused)
 */
export async function openDecision(
  event: EncryptedDecision,
  messageId: string,
  secretKeys: readonly Uint8Array[],
  kem: KemBackend,
  aead: Aead | undefined,
  receivedAt: number,
): Promise<ReceivedDecision> {
  let plaintext: Uint8Array | undefined;
  let lastError: unknown;
  for (const sk of secretKeys) {
    try {
      plaintext = await openEnvelope(event, sk, kem, aead);
      break;
    } catch (error) {
      lastError = error;
    }
  }
  if (!plaintext) {
    throw new NoxyError('CRYPTO', `decision ${messageId} could not be decrypted with this device's keys; dropped`, {
      cause: lastError,
    });
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(plaintext);
  } catch {
    throw new NoxyError('PROTOCOL', `decision ${messageId} is not UTF-8; dropped`);
  } finally {
    plaintext.fill(0);
  }
  let payload: StrictJson;
  try {
    payload = parseStrictJson(text);
  } catch (error) {
    throw new NoxyError('PROTOCOL', `decision ${messageId}: ${(error as Error).message}; dropped`);
  }
  const fromPayload = payloadDecisionId(payload);
  if (fromPayload !== undefined && fromPayload !== messageId) {
    throw new NoxyError('PROTOCOL', `decision ${messageId} carries a different decision id in its payload; dropped`);
  }
  return { decisionId: fromPayload ?? messageId, messageId, payload, receivedAt };
}
