/**
 * Device key pairs (docs/protocol.md §5.5): one Ed25519 pair (identifies the device, signs revoke
 * and rotate) and one ML-KEM-768 pair (decrypts decisions), created once per (app, identity).
 *
 * {@link checkDeviceKeys} is the gate every loaded key pair passes before use: a stored
 * ML-KEM secret key must pass the FIPS 203 §7.3 hash check, and each public key must be the
 * one its secret key implies. A key pair that fails is refused, never repaired, because a
 * silently altered key means a device that cannot decrypt (or a planted key).
 * @module
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import {
  ML_KEM_768,
  NoxyError,
  assertDecapsulationKey,
  assertEncapsulationKey,
  publicKeyOfSecretKey,
  type KemBackend,
} from '@noxy-approval/core/portable';
import { bytesEqual, randomBytes, uint64be } from './bytes.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';

/** A device's two key pairs. Treat as secret: never log, print or send the secret keys. */
export interface DeviceKeys {
  ed25519: { secretKey: Uint8Array; publicKey: Uint8Array };
  mlkem: { secretKey: Uint8Array; publicKey: Uint8Array };
}

/**
 * Creates fresh device keys.
 * @param kem the ML-KEM-768 backend (draws its own randomness)
 */
export function generateDeviceKeys(kem: KemBackend): DeviceKeys {
  const { secretKey, publicKey } = ed25519.keygen();
  const pq = kem.generateKeyPair();
  const keys: DeviceKeys = {
    ed25519: { secretKey, publicKey },
    mlkem: { secretKey: pq.secretKey, publicKey: pq.publicKey },
  };
  checkDeviceKeys(keys);
  return keys;
}

/**
 * Throws unless `keys` is a consistent, well-formed device key pair:
 * Ed25519 secret key 32 bytes whose public key matches; ML-KEM-768 secret key that passes the
 * FIPS 203 §7.3 checks and embeds exactly the stored public key, which itself passes the
 * FIPS 203 §7.2 checks.
 * @param label names the key pair in the error (e.g. the store entry)
 * @throws NoxyError `CRYPTO`
 */
export function checkDeviceKeys(keys: DeviceKeys, label = 'device key pair'): void {
  const fail = (why: string, cause?: unknown) =>
    new NoxyError('CRYPTO', `${label} refused: ${why}`, cause === undefined ? {} : { cause });
  const { ed25519: ed, mlkem } = keys;
  if (!(ed.secretKey instanceof Uint8Array) || ed.secretKey.length !== 32)
    throw fail('the Ed25519 secret key is not 32 bytes');
  if (!(ed.publicKey instanceof Uint8Array) || !bytesEqual(ed25519.getPublicKey(ed.secretKey), ed.publicKey)) {
    throw fail('the Ed25519 public key does not match its secret key');
  }
  try {
    assertDecapsulationKey(mlkem.secretKey);
    assertEncapsulationKey(mlkem.publicKey);
  } catch (cause) {
    throw fail(
      `the ML-KEM-768 key pair is invalid (${NoxyError.isInstance(cause) ? cause.message : 'unknown problem'})`,
      cause,
    );
  }
  if (!bytesEqual(publicKeyOfSecretKey(mlkem.secretKey), mlkem.publicKey)) {
    throw fail('the ML-KEM-768 public key does not match the one embedded in its secret key');
  }
}

/** Byte size of the random tail of a device signature (docs/protocol.md §5.8). */
const SIGNATURE_RANDOM_BYTES = 16;

/**
 * The Ed25519 device signature of revoke and rotate (docs/protocol.md §5.8):
 * `Ed25519.sign(device_sk, "noxy-device/v1" || appId || identityId || uint64_be(now_ms) || random(16))`.
 * The timestamp and random bytes are not sent (as in every official SDK), so a relay can only
 * check the signature's form, not its content.
 * @returns 64 bytes
 */
export function deviceSignature(
  keys: DeviceKeys,
  appId: string,
  identityId: string,
  nowMs: number,
  random: (length: number) => Uint8Array = randomBytes,
): Uint8Array {
  const parts = [
    utf8ToBytes('noxy-device/v1'),
    utf8ToBytes(appId),
    utf8ToBytes(identityId),
    uint64be(nowMs),
    random(SIGNATURE_RANDOM_BYTES),
  ];
  const message = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    message.set(p, offset);
    offset += p.length;
  }
  return ed25519.sign(message, keys.ed25519.secretKey);
}

/** Overwrites the secret halves of a key pair that is no longer used (best effort in JS). */
export function wipeDeviceKeys(keys: DeviceKeys): void {
  keys.ed25519.secretKey.fill(0);
  keys.mlkem.secretKey.fill(0);
}

/** Sizes of the public keys sent on the wire, for validation of peers' input. */
export const PUBLIC_KEY_BYTES = { ed25519: 32, mlkem: ML_KEM_768.publicKey } as const;
