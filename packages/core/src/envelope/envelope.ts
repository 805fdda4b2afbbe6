/**
 * The Noxy per-device envelope (docs/protocol.md §2.1), identical in every official SDK:
 *
 *   (kyber_ct, ss) = ML-KEM-768.Encaps(pq_public_key)
 *   key            = HKDF-SHA256(ikm = ss, salt = empty, info = empty, L = 32)
 *   nonce          = 12 random bytes
 *   ciphertext     = AES-256-GCM(key, nonce, plaintext, no AAD) || 16-byte tag
 *
 * HKDF comes from `@noble/hashes`, AES-GCM from an {@link Aead} (WebCrypto by default; core's
 * Node client passes node:crypto, five times faster per call), the KEM from a {@link KemBackend}.
 * No Node built-ins: the device's browser page uses this file.
 * @module
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { NoxyError } from '../errors.js';
import { assertDecapsulationKey, assertEncapsulationKey } from './key-check.js';
import { webCryptoAead, type Aead } from './aead.js';
import { ML_KEM_768, type KemBackend } from './kem.js';

/** AES-GCM nonce length (96 bits). */
export const NONCE_BYTES = 12;
/** AES-GCM tag length, appended to the ciphertext. */
export const TAG_BYTES = 16;

/** The three wire fields of one device's encryption (RouteDecisionRequest 5, 6, 2). */
export interface Envelope {
  /** ML-KEM-768 ciphertext, 1088 bytes. */
  kyberCt: Uint8Array;
  /** AES-GCM nonce, 12 bytes. */
  nonce: Uint8Array;
  /** AES-256-GCM ciphertext with the 16-byte tag appended. */
  ciphertext: Uint8Array;
}

/** Source of random bytes; defaults to `crypto.getRandomValues`. */
export type RandomBytes = (length: number) => Uint8Array;

/** Options of {@link sealEnvelope}. */
export interface SealOptions {
  /** The ML-KEM-768 backend. */
  kem: KemBackend;
  /**
   * Injected randomness for known-answer tests: 32 bytes of encapsulation coins (when the
   * backend is deterministic) then the 12-byte nonce. Never inject in production.
   */
  randomBytes?: RandomBytes;
  /** AES-256-GCM implementation; WebCrypto when omitted. */
  aead?: Aead;
}

const EMPTY = new Uint8Array(0);

/** Secret-key objects that already passed the §7.3 hash check (keys are not mutated in place). */
const checkedSecretKeys = new WeakSet<Uint8Array>();

/** The default CSPRNG. */
export const cryptoRandomBytes: RandomBytes = (length) => crypto.getRandomValues(new Uint8Array(length));

/** HKDF-SHA256 with an empty salt and info, 32 bytes: the envelope's key derivation. */
export function deriveEnvelopeKey(sharedSecret: Uint8Array): Uint8Array {
  return hkdf(sha256, sharedSecret, EMPTY, EMPTY, 32);
}

/**
 * Encrypts `plaintext` for one device. Refuses keys that fail the checks of
 * {@link assertEncapsulationKey} before encapsulating.
 * @param plaintext the UTF-8 JSON of the decision
 * @param pqPublicKey the device's ML-KEM-768 public key (1184 bytes)
 * @throws NoxyError `CRYPTO`
 * @example
 * const env = await sealEnvelope(bytes, device.pqPublicKey, { kem: await loadKemBackend() });
 */
export async function sealEnvelope(
  plaintext: Uint8Array,
  pqPublicKey: Uint8Array,
  options: SealOptions,
): Promise<Envelope> {
  assertEncapsulationKey(pqPublicKey);
  const { kem, randomBytes } = options;
  const coins = randomBytes && kem.deterministic ? randomBytes(ML_KEM_768.encapsCoins) : undefined;
  const { cipherText, sharedSecret } = kem.encapsulate(pqPublicKey, coins);
  const key = deriveEnvelopeKey(sharedSecret);
  sharedSecret.fill(0);
  const nonce = (randomBytes ?? cryptoRandomBytes)(NONCE_BYTES);
  if (nonce.length !== NONCE_BYTES)
    throw new NoxyError('CRYPTO', `randomBytes returned ${nonce.length} bytes, expected ${NONCE_BYTES}`);
  const ciphertext = await (options.aead ?? webCryptoAead).encrypt(key, nonce, plaintext);
  key.fill(0);
  return { kyberCt: cipherText, nonce, ciphertext };
}

/**
 * Decrypts an envelope with the device's ML-KEM-768 secret key (device side).
 * A tampered kyber_ct, nonce, ciphertext or tag all end in the same `CRYPTO` error.
 * @param envelope the three wire fields
 * @param secretKey the device's 2400-byte ML-KEM-768 secret key
 * @param kem the ML-KEM-768 backend
 * @param aead AES-256-GCM implementation (WebCrypto by default)
 * @throws NoxyError `CRYPTO`
 */
export async function openEnvelope(
  envelope: Envelope,
  secretKey: Uint8Array,
  kem: KemBackend,
  aead: Aead = webCryptoAead,
): Promise<Uint8Array> {
  if (typeof envelope !== 'object' || envelope === null)
    throw new NoxyError('CRYPTO', 'envelope expected { kyberCt, nonce, ciphertext }');
  const { kyberCt, nonce, ciphertext } = envelope;
  if (!(kyberCt instanceof Uint8Array) || kyberCt.length !== ML_KEM_768.cipherText) {
    throw new NoxyError('CRYPTO', `envelope kyber_ct expected ${ML_KEM_768.cipherText} bytes`);
  }
  if (!(nonce instanceof Uint8Array) || nonce.length !== NONCE_BYTES) {
    throw new NoxyError('CRYPTO', `envelope nonce expected ${NONCE_BYTES} bytes`);
  }
  if (!(ciphertext instanceof Uint8Array) || ciphertext.length < TAG_BYTES) {
    throw new NoxyError('CRYPTO', `envelope ciphertext expected at least ${TAG_BYTES} bytes`);
  }
  // The FIPS 203 hash check costs a SHA3-256 over 1184 bytes: do it once per key object, not
  // once per decision (a device opens every event with the same key).
  if (!checkedSecretKeys.has(secretKey)) {
    assertDecapsulationKey(secretKey);
    checkedSecretKeys.add(secretKey);
  }
  // Implicit rejection: a modified kyber_ct yields a pseudo-random key and AES-GCM fails below.
  const sharedSecret = kem.decapsulate(kyberCt, secretKey);
  const key = deriveEnvelopeKey(sharedSecret);
  sharedSecret.fill(0);
  try {
    return await aead.decrypt(key, nonce, ciphertext);
  } finally {
    key.fill(0);
  }
}
