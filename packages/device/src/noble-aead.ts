/**
 * AES-256-GCM on `@noble/ciphers`: pure JavaScript, no `crypto.subtle`. A page served over plain
 * `http://<LAN address>` is not a secure context, so `crypto.subtle` is `undefined` there
 *; this Aead works anyway. Same construction as core's `webCryptoAead`:
 * 12-byte nonce, no AAD, 16-byte tag appended. Browser-safe.
 * @module
 */
import { gcm } from '@noble/ciphers/aes.js';
import { authenticationFailed, type Aead } from '@noxy-approval/core/portable';
import { NoxyError } from '@noxy-approval/core/portable';

function check(key: Uint8Array, nonce: Uint8Array): void {
  // AES-256 only (noble would accept 16- and 24-byte keys as AES-128/192).
  if (!(key instanceof Uint8Array) || key.length !== 32)
    throw new NoxyError('CRYPTO', 'AES-256-GCM key must be 32 bytes');
  if (!(nonce instanceof Uint8Array) || nonce.length !== 12)
    throw new NoxyError('CRYPTO', 'AES-GCM nonce must be 12 bytes');
}

/** AES-256-GCM through `@noble/ciphers` (no WebCrypto needed). */
export const nobleAead: Aead = {
  encrypt(key, nonce, plaintext) {
    check(key, nonce);
    return gcm(key, nonce).encrypt(plaintext);
  },
  decrypt(key, nonce, sealed) {
    check(key, nonce);
    try {
      return gcm(key, nonce).decrypt(sealed);
    } catch (cause) {
      throw authenticationFailed(cause);
    }
  },
};

/** True when WebCrypto's `crypto.subtle` is usable here (a secure context). */
export function hasSubtleCrypto(): boolean {
  const c = (globalThis as { crypto?: { subtle?: unknown } }).crypto;
  return typeof c?.subtle === 'object' && c.subtle !== null;
}
