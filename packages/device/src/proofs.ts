/**
 * What our devices sign with their Ed25519 key beyond the official protocol (docs/security.md §10,
 * docs/protocol.md §12.2): a proof of possession on every authenticate / register_device, the
 * old key's announcement of a key rotation, and each decision outcome. The byte strings come
 * from core's shared, injective encodings (`@noxy-approval/core/portable`), so relay and agent
 * verify exactly what is signed here. Browser-safe (`@noble/curves`).
 * @module
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import {
  authenticateProofMessage,
  outcomeMessage,
  registerProofMessage,
  rotationMessage,
  type OutcomeFields,
} from '@noxy-approval/core/portable';
import type { DeviceKeys } from './keys.js';
import type { WireRequest } from './wire.js';

/** Ed25519 signing: `@noble/curves` by default, node:crypto in the Node device (node-sign.ts). */
export type Ed25519Sign = (message: Uint8Array, secretKey: Uint8Array) => Uint8Array;

/** The portable signer. */
export const nobleEd25519Sign: Ed25519Sign = (message, secretKey) => ed25519.sign(message, secretKey);

/** What the prover needs to know about the device at the time a request is framed. */
export interface ProverState {
  /** The current keys (for a rotation: still the OLD keys, which sign the announcement). */
  keys(): DeviceKeys;
  /** The relay's device id once known (rotation announcements name it). */
  deviceId(): string | undefined;
  /** The identity id, byte-exact. */
  identityId: string;
}

/**
 * The `prove` hook of a Session: signs the proof of each framed authenticate, register_device and
 * rotate_device_keys; `undefined` for other requests (and for a rotation before the device id
 * is known, which cannot happen after a handshake).
 */
export function requestProver(
  state: ProverState,
  sign: Ed25519Sign = nobleEd25519Sign,
): (request: WireRequest) => Uint8Array | undefined {
  return (request) => {
    const p = request.payload;
    const keys = state.keys();
    const frame = {
      appId: request.appId,
      requestId: request.requestId,
      timestamp: request.timestamp,
      nonce: request.nonce,
    };
    let message: Uint8Array;
    if (p.kind === 'authenticate') {
      message = authenticateProofMessage({ ...frame, ...p.keys });
    } else if (p.kind === 'registerDevice') {
      message = registerProofMessage({
        ...frame,
        ...p.keys,
        identityType: p.identityType,
        identityId: p.identityId,
        deviceType: p.deviceType,
      });
    } else if (p.kind === 'rotateDeviceKeys') {
      const deviceId = state.deviceId();
      if (!deviceId) return undefined;
      message = rotationMessage({
        deviceId,
        identityId: state.identityId,
        oldPublicKey: keys.ed25519.publicKey,
        newPublicKey: p.newKeys.publicKey,
        newPqPublicKey: p.newKeys.pqPublicKey,
        rotatedAt: request.timestamp,
      });
    } else {
      return undefined;
    }
    return sign(message, keys.ed25519.secretKey);
  };
}

/**
 * The device's signature of its answer: (app id, identity id, decision id, outcome, the
 * decrypted payload's `action_hash`, decided-at), for the agent to verify with the pinned key.
 * @returns 64 bytes
 */
export function signOutcome(keys: DeviceKeys, fields: OutcomeFields, sign: Ed25519Sign = nobleEd25519Sign): Uint8Array {
  return sign(outcomeMessage(fields), keys.ed25519.secretKey);
}
