/**
 * Generation and comparison of the relay's credentials and ids.
 *
 * App tokens are shown once and stored only as SHA-256 hashes, so a copy of the database does
 * not let anyone call the Agent API. Signing secrets and open pairing codes are stored as
 * given, because HMAC verification needs the key itself (docs/protocol.md §5.6).
 * @module
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

/** A new app id, e.g. `app_3f9c…` (16 random bytes, hex). */
export function newAppId(): string {
  return `app_${randomBytes(16).toString('hex')}`;
}

/** A new app token (bearer credential of the Agent API), 32 random bytes. */
export function newAppToken(): string {
  return `noxy_at_${randomBytes(32).toString('base64url')}`;
}

/** A new app signing secret (HMAC key of device registrations), 32 random bytes. */
export function newSigningSecret(): string {
  return `noxy_ss_${randomBytes(32).toString('base64url')}`;
}

/** A new device id (UUID v4). */
export function newDeviceId(): string {
  return randomUUID();
}

/** A new session id, 24 random bytes (unguessable; bound to one connection anyway). */
export function newSessionId(): string {
  return `s_${randomBytes(24).toString('base64url')}`;
}

// Crockford-style alphabet without 0/O, 1/I/L and U: easy to read aloud and type on a phone.
const CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTVWXYZ23456789';
/** Length of a pairing code: 10 symbols of a 30-letter alphabet ≈ 49 bits. */
export const PAIRING_CODE_LENGTH = 10;

/**
 * A new one-time pairing code: {@link PAIRING_CODE_LENGTH} upper-case letters and digits.
 * Rejection sampling keeps every symbol uniformly likely.
 */
export function newPairingCode(): string {
  let code = '';
  // Bounded: each round yields ≥ 1 accepted byte with overwhelming probability; 64 rounds max.
  for (let round = 0; round < 64 && code.length < PAIRING_CODE_LENGTH; round++) {
    for (const byte of randomBytes(32)) {
      if (byte < 240 && code.length < PAIRING_CODE_LENGTH) code += CODE_ALPHABET[byte % 30];
    }
  }
  if (code.length !== PAIRING_CODE_LENGTH) throw new Error('pairing code generation failed');
  return code;
}

/**
 * SHA-256 of a UTF-8 string or bytes.
 * @param value what to hash
 */
export function sha256(value: string | Uint8Array): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * Constant-time equality of two byte strings (false when lengths differ).
 * @param a first value
 * @param b second value
 */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
