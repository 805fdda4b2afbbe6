/**
 * ML-KEM-768 key checks done before any key is used (FIPS 203 §7.2 and §7.3, docs/protocol.md §2.6).
 *
 * Encapsulation key (a device's `pq_public_key`, checked by the agent before encrypting):
 * 1. type check — exactly 1184 bytes;
 * 2. modulus check — the 768 12-bit coefficients in the first 1152 bytes are all < q = 3329
 *    (equivalently ByteEncode12(ByteDecode12(ek)) == ek);
 * 3. not the publicly computable all-zero-seed key that the published `kyber.wasm` produces
 *    when it has no randomness (docs/protocol.md §2.6). Its secret key is known to everyone.
 *
 * Decapsulation key (the device's own secret key, checked on load): exactly 2400 bytes and
 * the hash check H(ek) == dk[768k+32 : 768k+64] with H = SHA3-256.
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { sha3_256 } from '@noble/hashes/sha3.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { NoxyError } from '../errors.js';
import { ML_KEM_768 } from './kem.js';

const Q = 3329;
const POLY_BYTES = 1152; // 384 · k

/**
 * SHA-256 of the ML-KEM-768 public key derived from 64 zero bytes (d = z = 0^32), prefix
 * `254a797885c63b14`. A test re-derives it with the mlkem backend.
 */
export const ZERO_SEED_PUBLIC_KEY_SHA256 = 'f95c185fe5b2335d2fc938dd889c6425944acd74376b6952bf1130f720f6ba99';
const ZERO_SEED_PREFIX = [0x25, 0x4a, 0x79, 0x78, 0x85, 0xc6, 0x3b, 0x14];

/** Why an encapsulation key was refused, or `undefined` when it is acceptable. */
export type EncapsulationKeyProblem = 'length' | 'modulus' | 'zero-seed';

/**
 * Checks a device's ML-KEM-768 public key without throwing.
 * @param publicKey the candidate `pq_public_key`
 * @returns the first problem found, or `undefined` if the key passes every check
 */
export function encapsulationKeyProblem(publicKey: Uint8Array): EncapsulationKeyProblem | undefined {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== ML_KEM_768.publicKey) return 'length';
  // Two 12-bit coefficients per 3 bytes, little-endian (ByteDecode12).
  for (let i = 0; i < POLY_BYTES; i += 3) {
    const b0 = publicKey[i]!;
    const b1 = publicKey[i + 1]!;
    const b2 = publicKey[i + 2]!;
    if ((b0 | ((b1 & 0x0f) << 8)) >= Q || ((b1 >> 4) | (b2 << 4)) >= Q) return 'modulus';
  }
  if (
    ZERO_SEED_PREFIX.every((b, i) => publicKey[i] === b) &&
    bytesToHex(sha256(publicKey)) === ZERO_SEED_PUBLIC_KEY_SHA256
  ) {
    return 'zero-seed';
  }
  return undefined;
}

const PROBLEM_TEXT: Record<EncapsulationKeyProblem, string> = {
  length: `expected ${ML_KEM_768.publicKey} bytes`,
  modulus: 'fails the FIPS 203 modulus check (a coefficient is not reduced mod q)',
  'zero-seed': 'is the publicly known all-zero-seed key (its secret key is public)',
};

/**
 * Throws unless `publicKey` is an acceptable ML-KEM-768 encapsulation key.
 * @throws NoxyError `CRYPTO`, naming the problem (length, modulus, zero-seed)
 */
export function assertEncapsulationKey(publicKey: Uint8Array, label = 'pq_public_key'): void {
  const problem = encapsulationKeyProblem(publicKey);
  if (problem) {
    const got =
      problem === 'length'
        ? `, got ${publicKey instanceof Uint8Array ? publicKey.length : typeof publicKey} bytes`
        : '';
    throw new NoxyError('CRYPTO', `ML-KEM-768 ${label} refused: ${PROBLEM_TEXT[problem]}${got}`);
  }
}

/**
 * Throws unless `secretKey` is a well-formed ML-KEM-768 decapsulation key (length and the
 * FIPS 203 §7.3 hash check of the embedded public key).
 * @throws NoxyError `CRYPTO`
 */
export function assertDecapsulationKey(secretKey: Uint8Array): void {
  if (!(secretKey instanceof Uint8Array) || secretKey.length !== ML_KEM_768.secretKey) {
    throw new NoxyError('CRYPTO', `ML-KEM-768 secret key refused: expected ${ML_KEM_768.secretKey} bytes`);
  }
  const ek = secretKey.subarray(POLY_BYTES, POLY_BYTES + ML_KEM_768.publicKey);
  const h = secretKey.subarray(POLY_BYTES + ML_KEM_768.publicKey, POLY_BYTES + ML_KEM_768.publicKey + 32);
  const expected = sha3_256(ek);
  let diff = 0;
  for (let i = 0; i < 32; i++) diff |= expected[i]! ^ h[i]!;
  if (diff !== 0)
    throw new NoxyError('CRYPTO', 'ML-KEM-768 secret key refused: the hash check of its public key failed');
}

/** The public key embedded in an ML-KEM-768 secret key (dk = dk_pke || ek || H(ek) || z). */
export function publicKeyOfSecretKey(secretKey: Uint8Array): Uint8Array {
  return secretKey.slice(POLY_BYTES, POLY_BYTES + ML_KEM_768.publicKey);
}
