/**
 * Verifying a decision outcome against the deciding device's pinned Ed25519 key
 * (docs/security.md §10, docs/protocol.md §12.2). The relay returns the
 * device's signature and the fields it covers in GetDecisionOutcome (fields ≥ 100); this module
 * rebuilds the signed bytes with core's shared encoding (device-signing.ts) and checks them.
 *
 * Each failure has its own reason, so the gate can tell the model exactly why it did not run:
 * `unsigned` (no signature: an official device, or a relay that dropped it), `unknown_device`
 * (a device that is not one of this identity's, or whose key is neither pinned nor listed),
 * `wrong_device` (the relay lists another key for a pinned device, not announced by the pinned
 * key), `bad_signature`, `wrong_decision` (signed for another decision id), `wrong_action`
 * (signed for another action_hash), `lookup_failed` (the device's key is not pinned and the relay
 * could not be asked for it: the outcome is still reported, unverified, never thrown away).
 * @module
 */
import type { agent } from '@noxy-approval/proto';
import type { DeviceKeyStore } from './device-keys.js';
import { NoxyError } from './errors.js';
import { outcomeMessage, rotationMessage } from './device-signing.js';
import { verifyEd25519, verifyEd25519Async } from './ed25519-verify.js';

/** Why an outcome is not verified. */
export type VerificationFailure =
  | 'unsigned'
  | 'unknown_device'
  | 'wrong_device'
  | 'bad_signature'
  | 'wrong_decision'
  | 'wrong_action'
  | 'lookup_failed';

/** Whether an approved or rejected outcome was signed by one of the identity's devices. */
export interface DeviceVerification {
  verified: boolean;
  /** The device that signed (verified), or the one the relay named. */
  deviceId?: string | undefined;
  reason?: VerificationFailure | undefined;
}

/** A device as GetIdentityDevices lists it (with the key-rotation extension). */
export type ListedDevice = Pick<agent.IdentityDevice, 'deviceId' | 'publicKey' | 'keyRotations'>;

/** What the verifier needs. */
export interface OutcomeVerifierOptions {
  keys: DeviceKeyStore;
  /** Pin a device's key the first time it is seen (default true); false: only configured pins. */
  trustOnFirstUse: boolean;
  /** The identity's devices as the relay lists them (fetched only when a key is not pinned or changed). */
  listDevices(identityId: string): Promise<readonly ListedDevice[]>;
  /** The app id the signature must name; undefined: the one the relay reports is used. */
  appId?: string | undefined;
}

/** What was asked. */
export interface ExpectedOutcome {
  identityId: string;
  decisionId: string;
  outcome: 'approved' | 'rejected';
  /** The action_hash the decision carried; undefined when it had none or it is not known here. */
  actionHash?: string | undefined;
}

/** Verifies signed outcomes; create one per client. */
export interface OutcomeVerifier {
  verify(expected: ExpectedOutcome, response: Partial<agent.GetDecisionOutcomeResponse>): Promise<DeviceVerification>;
}

const equalBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Follows the listed key rotations from `pinned`: each step must be signed by the key it
 * replaces. @returns the latest key reached, or `pinned` when no valid step starts there
 */
function followRotations(pinned: Uint8Array, device: ListedDevice, identityId: string): Uint8Array {
  let key = pinned;
  // Bounded: each rotation is used at most once.
  const left = [...(device.keyRotations ?? [])];
  for (let progressed = true; progressed && left.length > 0; ) {
    progressed = false;
    for (let i = 0; i < left.length; i++) {
      const r = left[i]!;
      if (!equalBytes(r.oldPublicKey, key)) continue;
      const message = rotationMessage({
        deviceId: device.deviceId,
        identityId,
        oldPublicKey: r.oldPublicKey,
        newPublicKey: r.newPublicKey,
        newPqPublicKey: r.newPqPublicKey,
        rotatedAt: Number(r.rotatedAt),
      });
      if (!verifyEd25519(key, message, r.signature)) continue;
      key = new Uint8Array(r.newPublicKey);
      left.splice(i, 1);
      progressed = true;
      break;
    }
  }
  return key;
}

/** Creates a verifier over a pin store. */
export function createOutcomeVerifier(o: OutcomeVerifierOptions): OutcomeVerifier {
  return {
    async verify(expected, res) {
      const signature = res.deviceSignature;
      const deviceId = res.deviceId ?? '';
      if (!signature || signature.length === 0 || deviceId === '') return { verified: false, reason: 'unsigned' };
      const message = outcomeMessage({
        appId: o.appId ?? res.appId ?? '',
        identityId: expected.identityId,
        decisionId: res.signedDecisionId ?? '',
        outcome: expected.outcome === 'approved' ? 'APPROVE' : 'REJECT',
        actionHash: res.actionHash ?? '',
        decidedAt: Number(res.decidedAt ?? 0n),
      });
      const fail = (reason: VerificationFailure): DeviceVerification => ({ verified: false, deviceId, reason });

      let key = await o.keys.get(expected.identityId, deviceId);
      if (!key || !(await verifyEd25519Async(key, message, signature))) {
        // Not pinned yet, or the pinned key does not verify: see what the relay lists.
        let devices: readonly ListedDevice[];
        try {
          devices = await o.listDevices(expected.identityId);
        } catch (error) {
          // The outcome is known; only its check is not. Reporting it unverified keeps the answer
          // (a caller requiring signatures refuses it, fail closed) instead of failing the wait.
          if (NoxyError.isInstance(error) && error.code === 'ABORTED') throw error;
          return fail('lookup_failed');
        }
        const listed = devices.find((d) => d.deviceId === deviceId);
        if (!listed || listed.publicKey.length === 0) return fail('unknown_device');
        if (!key) {
          if (!o.trustOnFirstUse) return fail('unknown_device');
          key = new Uint8Array(listed.publicKey);
          await o.keys.set({ identityId: expected.identityId, deviceId, publicKey: key });
        } else if (!equalBytes(key, listed.publicKey)) {
          // A new key counts only when the pinned key announced it (docs/protocol.md §12.2).
          const reached = followRotations(key, listed, expected.identityId);
          if (!equalBytes(reached, listed.publicKey)) return fail('wrong_device');
          key = reached;
          await o.keys.set({ identityId: expected.identityId, deviceId, publicKey: key });
        }
        if (!(await verifyEd25519Async(key, message, signature))) return fail('bad_signature');
      }
      // The signature is the device's: now check it says what was asked.
      if (res.signedDecisionId !== expected.decisionId) return fail('wrong_decision');
      if (expected.actionHash !== undefined && (res.actionHash ?? '') !== expected.actionHash)
        return fail('wrong_action');
      return { verified: true, deviceId };
    },
  };
}
