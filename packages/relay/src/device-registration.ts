/**
 * Device keys and registration (docs/protocol.md §5.6, docs/local-relay-contract.md "Registration").
 *
 * A registration is accepted when its HMAC-SHA256 signature verifies with the app signing
 * secret, or with an unexpired, unused pairing code of that app + identity (the code is then
 * marked used). A repeated registration of keys the relay already knows succeeds with the same
 * device id (docs/protocol.md §10.5) when it carries the signature accepted the first time, or any
 * signature valid under the app secret.
 *
 * Proofs of possession (docs/security.md §10): our devices also sign each
 * authenticate / register_device frame with their Ed25519 key (`device_proof`, field 100). A proof
 * that is sent must verify; a device that ever registered with one is bound to proofs for good
 * (no downgrade); with `requireDeviceProof` every device needs one. Official SDKs send none and
 * keep working otherwise. The nonce and timestamp checks run before any of this (device-session).
 *
 * Wallet signatures (docs/protocol.md §5.7, browser SDK 2.0.x) cannot be verified — `issuedAt` is
 * never sent — so they are refused as INVALID_SIGNATURE.
 * @module
 */
import { IDENTITY_TYPES, NoxyError, parseIdentity, verifyEd25519, type IdentityType } from '@noxy-approval/core';
import {
  authenticateProofMessage,
  encapsulationKeyProblem,
  registerProofMessage,
  rotationMessage,
} from '@noxy-approval/core/portable';
import { verifyRegistrationSignature, type RegistrationFields } from '@noxy-approval/device';
import { device } from '@noxy-approval/proto';
import { bytesEqual, newDeviceId, sha256 } from './secrets.js';
import type { AppRecord, DeviceRecord, KeyRotationRecord, RelayStore } from './store/index.js';

/** Ed25519 public key length. */
export const ED25519_PUBLIC_KEY_BYTES = 32;
const MAX_DEVICE_TYPE = 64;

/** A refusal: the device ErrorCode and a message naming the field. */
export interface Refusal {
  code: device.ErrorCode;
  message: string;
}

/** A checked key pair. */
export interface DeviceKeys {
  publicKey: Buffer;
  pqPublicKey: Buffer;
}

/**
 * Checks a `DevicePublicKeys` message: a 32-byte Ed25519 key and an acceptable ML-KEM-768 key
 * (1184 bytes, FIPS 203 modulus check, not the public all-zero-seed key).
 * @param keys the message
 * @param field its name in error messages
 */
export function checkDeviceKeys(keys: device.DevicePublicKeys | undefined, field: string): DeviceKeys | Refusal {
  const invalid = (message: string): Refusal => ({ code: device.ErrorCode.INVALID_REQUEST, message });
  if (!keys) return invalid(`"${field}" missing`);
  if (keys.publicKey.length !== ED25519_PUBLIC_KEY_BYTES) {
    return invalid(
      `"${field}.public_key" expected ${ED25519_PUBLIC_KEY_BYTES} bytes (Ed25519), got ${keys.publicKey.length}`,
    );
  }
  const problem = encapsulationKeyProblem(keys.pqPublicKey);
  if (problem === 'length')
    return invalid(`"${field}.pq_public_key" expected 1184 bytes (ML-KEM-768), got ${keys.pqPublicKey.length}`);
  if (problem === 'modulus') return invalid(`"${field}.pq_public_key" fails the FIPS 203 modulus check`);
  if (problem === 'zero-seed') return invalid(`"${field}.pq_public_key" is the publicly known all-zero-seed key`);
  return { publicKey: Buffer.from(keys.publicKey), pqPublicKey: Buffer.from(keys.pqPublicKey) };
}

/** True when `value` is a {@link Refusal}. */
export function isRefusal(value: object): value is Refusal {
  return 'code' in value && 'message' in value;
}

/**
 * The wire identity type of a proto enum value (unknown numbers → undefined).
 * @param value `IdentityType` enum number
 */
export function identityTypeOf(value: number): IdentityType | undefined {
  return Number.isInteger(value) && value >= 0 ? IDENTITY_TYPES[value] : undefined;
}

/** The envelope fields of the request a proof is checked against. */
export interface RequestFrame {
  appId: string;
  requestId: string;
  /** ms since the epoch, as sent (already checked fresh). */
  timestamp: bigint;
  /** As sent (already checked unused). */
  nonce: Uint8Array;
}

/** How strict the relay is about proofs of possession. */
export interface ProofPolicy {
  /** `--require-device-proof`: refuse every authenticate / register_device without a valid proof. */
  requireDeviceProof: boolean;
}

const proofFrame = (f: RequestFrame, keys: DeviceKeys) => ({
  appId: f.appId,
  requestId: f.requestId,
  timestamp: Number(f.timestamp),
  nonce: f.nonce,
  publicKey: keys.publicKey,
  pqPublicKey: keys.pqPublicKey,
});

const proofMissing = (field: string, why: string): Refusal => ({
  code: device.ErrorCode.INVALID_SIGNATURE,
  message: `"${field}" missing: ${why}; update the device (noxy-approval device library or web page)`,
});
const proofInvalid = (field: string): Refusal => ({
  code: device.ErrorCode.INVALID_SIGNATURE,
  message: `"${field}" does not verify: it must be the device's Ed25519 signature over this very request`,
});

/**
 * Checks `authenticate.device_proof` for a known device. A valid proof from a device that
 * registered without one (e.g. before its library was updated) binds it to proofs from now on.
 * @param dev the device the keys belong to, or undefined when the relay does not know them
 * @param bind the store where that binding is recorded, and the relay clock
 * @returns a refusal, or undefined when the authentication may proceed
 */
export function checkAuthenticateProof(
  auth: device.Authenticate,
  keys: DeviceKeys,
  frame: RequestFrame,
  dev: DeviceRecord | undefined,
  policy: ProofPolicy,
  bind?: { store: RelayStore; nowMs: number },
): Refusal | undefined {
  const field = 'authenticate.device_proof';
  const proof = auth.deviceProof ?? Buffer.alloc(0);
  if (proof.length === 0) {
    if (policy.requireDeviceProof) return proofMissing(field, 'this relay runs with --require-device-proof');
    if (dev?.deviceProof) return proofMissing(field, 'this device registered with proofs and may not go without');
    return undefined;
  }
  if (!verifyEd25519(keys.publicKey, authenticateProofMessage(proofFrame(frame, keys)), proof)) {
    return proofInvalid(field);
  }
  if (dev && !dev.deviceProof && bind) {
    bind.store.devices.markProof(dev.deviceId);
    bind.store.decisions.audit(bind.nowMs, dev.appId, undefined, dev.deviceId, 'device.proof_bound');
  }
  return undefined;
}

/**
 * Checks `rotate_device_keys.rotation_proof`: the OLD key's signature announcing the new keys.
 * Required for a device bound to proofs and under `requireDeviceProof`; checked when sent.
 * @returns a refusal, the rotation to record, or undefined (an official device, no proof)
 */
export function checkRotationProof(
  dev: DeviceRecord,
  rotation: device.RotateDeviceKeys,
  newKeys: DeviceKeys,
  timestamp: bigint,
  policy: ProofPolicy,
): Refusal | KeyRotationRecord | undefined {
  const field = 'rotate_device_keys.rotation_proof';
  const proof = rotation.rotationProof ?? Buffer.alloc(0);
  if (proof.length === 0) {
    if (policy.requireDeviceProof) return proofMissing(field, 'this relay runs with --require-device-proof');
    if (dev.deviceProof) return proofMissing(field, 'this device registered with proofs and may not go without');
    return undefined;
  }
  const record: KeyRotationRecord = {
    oldPublicKey: dev.publicKey,
    newPublicKey: newKeys.publicKey,
    newPqPublicKey: newKeys.pqPublicKey,
    rotatedAt: Number(timestamp),
    signature: Buffer.from(proof),
  };
  const message = rotationMessage({
    deviceId: dev.deviceId,
    identityId: dev.identityId,
    oldPublicKey: record.oldPublicKey,
    newPublicKey: record.newPublicKey,
    newPqPublicKey: record.newPqPublicKey,
    rotatedAt: record.rotatedAt,
  });
  return verifyEd25519(dev.publicKey, message, proof) ? record : proofInvalid(field);
}

/** A registration request after field checks. */
interface CheckedRegistration {
  fields: RegistrationFields;
  keys: DeviceKeys;
  signature: Buffer;
  /** `device_proof`, empty when none was sent. */
  proof: Buffer;
}

function checkRegistration(appId: string, reg: device.RegisterDevice): CheckedRegistration | Refusal {
  const invalid = (message: string): Refusal => ({ code: device.ErrorCode.INVALID_REQUEST, message });
  const keys = checkDeviceKeys(reg.devicePubkeys, 'register_device.device_pubkeys');
  if (isRefusal(keys)) return keys;
  const identityType = identityTypeOf(reg.identityType);
  if (!identityType) return invalid(`"register_device.identity_type" expected 0..3, got ${reg.identityType}`);
  // docs/protocol.md §6: wallets send wallet_address with identity_id empty; others identity_id.
  const identityId = reg.identityId !== '' ? reg.identityId : (reg.walletAddress ?? '');
  try {
    parseIdentity({ type: identityType, id: identityId }, 'register_device.identity_id');
  } catch (error) {
    if (NoxyError.isInstance(error)) return invalid(error.message);
    throw error;
  }
  if (reg.type.length > MAX_DEVICE_TYPE || /[\u0000-\u001f\u007f]/.test(reg.type)) {
    return invalid(`"register_device.type" expected at most ${MAX_DEVICE_TYPE} printable characters`);
  }
  const fields: RegistrationFields = {
    appId,
    identityType,
    identityId,
    publicKey: keys.publicKey,
    pqPublicKey: keys.pqPublicKey,
    deviceType: reg.type,
  };
  return { fields, keys, signature: Buffer.from(reg.signature), proof: Buffer.from(reg.deviceProof ?? []) };
}

/**
 * Handles a RegisterDevice: verifies it and stores the device (or finds the known one).
 * @param store the relay store
 * @param app the app named by the request's `app_id`
 * @param reg the request payload
 * @param nowMs relay clock
 * @param frame the request's envelope, which a `device_proof` covers
 * @param policy whether proofs are required
 * @returns the registered device, or why it was refused
 */
export function registerDevice(
  store: RelayStore,
  app: AppRecord,
  reg: device.RegisterDevice,
  nowMs: number,
  frame: RequestFrame,
  policy: ProofPolicy = { requireDeviceProof: false },
): DeviceRecord | Refusal {
  const checked = checkRegistration(app.appId, reg);
  if (isRefusal(checked)) return checked;
  const { fields, keys, signature, proof } = checked;
  const proofField = 'register_device.device_proof';
  if (proof.length > 0) {
    const message = registerProofMessage({
      ...proofFrame(frame, keys),
      identityType: fields.identityType,
      identityId: fields.identityId,
      deviceType: fields.deviceType,
    });
    if (!verifyEd25519(keys.publicKey, message, proof)) return proofInvalid(proofField);
  } else if (policy.requireDeviceProof) {
    return proofMissing(proofField, 'this relay runs with --require-device-proof');
  }
  const badSignature: Refusal = {
    code: device.ErrorCode.INVALID_SIGNATURE,
    message: 'registration signature does not verify',
  };
  if (signature.length === 0)
    return { code: device.ErrorCode.INVALID_SIGNATURE, message: '"register_device.signature" missing' };

  return store.transaction((): DeviceRecord | Refusal => {
    const known = store.devices.byPublicKey(app.appId, keys.publicKey);
    if (known) {
      if (known.revokedAt !== undefined) return { code: device.ErrorCode.DEVICE_REVOKED, message: 'device revoked' };
      if (!bytesEqual(known.pqPublicKey, keys.pqPublicKey)) {
        return {
          code: device.ErrorCode.INVALID_REQUEST,
          message: '"device_pubkeys.public_key" is registered with another pq_public_key',
        };
      }
      if (known.identityId !== fields.identityId || known.identityType !== fields.identityType) {
        return {
          code: device.ErrorCode.INVALID_REQUEST,
          message: 'these device keys are registered to another identity',
        };
      }
      if (known.deviceProof && proof.length === 0)
        return proofMissing(proofField, 'this device registered with proofs and may not go without');
      const same = bytesEqual(sha256(signature), known.registrationHash);
      if (!same && !verifyRegistrationSignature(app.signingSecret, fields, signature)) return badSignature;
      // A device that proves possession once is bound to proofs from then on (no downgrade).
      if (proof.length > 0 && !known.deviceProof) {
        store.devices.markProof(known.deviceId);
        store.decisions.audit(nowMs, app.appId, undefined, known.deviceId, 'device.proof_bound');
        return { ...known, deviceProof: true };
      }
      return known;
    }
    if (store.devices.byPqPublicKey(app.appId, keys.pqPublicKey)) {
      return {
        code: device.ErrorCode.INVALID_REQUEST,
        message: '"device_pubkeys.pq_public_key" is already registered',
      };
    }
    let via: 'secret' | 'pairing' | undefined;
    let pairingId: string | undefined;
    if (verifyRegistrationSignature(app.signingSecret, fields, signature)) via = 'secret';
    else {
      for (const p of store.apps.openPairings(app.appId, fields.identityType, fields.identityId, nowMs)) {
        if (p.code !== undefined && verifyRegistrationSignature(p.code, fields, signature)) {
          via = 'pairing';
          pairingId = p.pairingId;
          break;
        }
      }
    }
    if (!via) {
      // The most common cause by far: a pairing link used a second time, or after it expired.
      return {
        code: device.ErrorCode.INVALID_SIGNATURE,
        message:
          'registration signature does not verify with the app signing secret or with any unused, unexpired ' +
          'pairing code for this identity: a pairing link works once and expires; make a new one with ' +
          '`noxy-relay pair`',
      };
    }
    const record: DeviceRecord = {
      deviceId: newDeviceId(),
      appId: app.appId,
      identityType: fields.identityType,
      identityId: fields.identityId,
      publicKey: keys.publicKey,
      pqPublicKey: keys.pqPublicKey,
      deviceType: fields.deviceType,
      registrationHash: sha256(signature),
      registeredVia: via,
      registeredAt: nowMs,
      rotatedAt: undefined,
      revokedAt: undefined,
      deviceProof: proof.length > 0,
    };
    store.devices.insert(record);
    if (pairingId !== undefined) {
      store.apps.usePairing(pairingId, record.deviceId, nowMs);
      store.decisions.audit(nowMs, app.appId, undefined, record.deviceId, 'pairing.used', { pairingId });
    }
    store.decisions.audit(nowMs, app.appId, undefined, record.deviceId, 'device.registered', {
      identityType: record.identityType,
      deviceType: record.deviceType,
      via,
      deviceProof: record.deviceProof,
    });
    return record;
  });
}
