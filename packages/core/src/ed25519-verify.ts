/**
 * Ed25519 signature verification with Node's OpenSSL (`node:crypto`), for the relay (device
 * proofs) and the agent client (signed outcomes, docs/security.md §10). Devices
 * sign with `@noble/curves` in the browser and in Node; verifying here needs no extra
 * dependency in core and is several times faster than a pure-JS verify.
 * @module
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';

/** Ed25519 public key and signature sizes. */
export const ED25519_BYTES = { publicKey: 32, signature: 64 } as const;

// Parsing a raw key into a KeyObject costs about as much as a verify: keep the last few.
const keyCache = new Map<string, KeyObject>();
const KEY_CACHE_SIZE = 256;

function keyObject(publicKey: Uint8Array): KeyObject {
  const x = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString('base64url');
  let key = keyCache.get(x);
  if (!key) {
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
    if (keyCache.size >= KEY_CACHE_SIZE) keyCache.delete(keyCache.keys().next().value as string);
    keyCache.set(x, key);
  }
  return key;
}

const wellFormed = (publicKey: Uint8Array, signature: Uint8Array) =>
  publicKey instanceof Uint8Array &&
  publicKey.length === ED25519_BYTES.publicKey &&
  signature instanceof Uint8Array &&
  signature.length === ED25519_BYTES.signature;

/**
 * True when `signature` is a valid Ed25519 signature of `message` by `publicKey`. Wrong sizes,
 * keys that are not curve points and any other failure are `false` (fail closed), never a throw.
 */
export function verifyEd25519(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (!wellFormed(publicKey, signature)) return false;
  try {
    return verify(null, message, keyObject(publicKey), signature);
  } catch {
    return false;
  }
}

/**
 * {@link verifyEd25519} on libuv's thread pool, off the event loop: an agent verifying many
 * outcomes keeps serving its other calls meanwhile. Never rejects; failures are `false`.
 */
export function verifyEd25519Async(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  if (!wellFormed(publicKey, signature)) return Promise.resolve(false);
  return new Promise((resolve) => {
    try {
      verify(null, message, keyObject(publicKey), signature, (error, ok) => resolve(!error && ok));
    } catch {
      resolve(false);
    }
  });
}
