/**
 * The device registration signature (docs/protocol.md §5.6), shared by the device (signs) and the
 * local relay (verifies):
 *
 *   msg = "NOXY_DEVICE_REGISTER_V1" ␟ appId ␟ identityType ␟ identityId ␟ hex(sha256(ed25519 pk))
 *         ␟ hex(sha256(ml-kem pk)) ␟ deviceType                          (␟ = U+001F)
 *   signature = HMAC-SHA256(key = UTF-8(trim(APP_SIGNING_SECRET)), UTF-8(msg))
 *
 * The same MAC keyed with a one-time pairing code is how a paired device registers without
 * ever holding the app secret (docs/local-relay-contract.md).
 * @module
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import type { IdentityType } from '@noxy-approval/core';

const SEP = '\u001f';

/** What the registration signature covers. */
export interface RegistrationFields {
  appId: string;
  identityType: IdentityType;
  /** The logical identity id, byte-exact (wallet address as sent in `wallet_address`). */
  identityId: string;
  /** Ed25519 public key, 32 bytes. */
  publicKey: Uint8Array;
  /** ML-KEM-768 public key, 1184 bytes. */
  pqPublicKey: Uint8Array;
  /** `RegisterDevice.type`: browser, desktop, ios, android, telegram. */
  deviceType: string;
}

/** The canonical registration message (UTF-8 bytes) of docs/protocol.md §5.6. */
export function registrationMessage(f: RegistrationFields): Uint8Array {
  return utf8ToBytes(
    [
      'NOXY_DEVICE_REGISTER_V1',
      f.appId,
      f.identityType,
      f.identityId,
      bytesToHex(sha256(f.publicKey)),
      bytesToHex(sha256(f.pqPublicKey)),
      f.deviceType,
    ].join(SEP),
  );
}

/**
 * HMAC-SHA256 registration signature with an app signing secret or a pairing code.
 * The key is trimmed, as every official SDK trims APP_SIGNING_SECRET.
 * @returns 32 bytes
 */
export function registrationSignature(key: string, fields: RegistrationFields): Uint8Array {
  return hmac(sha256, utf8ToBytes(key.trim()), registrationMessage(fields));
}

/** Constant-time check of a registration signature against `key`. */
export function verifyRegistrationSignature(key: string, fields: RegistrationFields, signature: Uint8Array): boolean {
  const expected = registrationSignature(key, fields);
  if (!(signature instanceof Uint8Array) || signature.length !== expected.length) return false;
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff |= expected[i]! ^ signature[i]!;
  return diff === 0;
}
