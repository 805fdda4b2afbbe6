/**
 * AES-256-GCM as the envelope uses it: 12-byte nonce, no AAD, 16-byte tag appended.
 * {@link webCryptoAead} runs everywhere; the Node client injects a node:crypto one
 * (`nodeAead` in core), which is about five times faster per small message because WebCrypto
 * pays an async key import and a thread hop per call.
 * @module
 */
import { NoxyError } from '../errors.js';

/** An AES-256-GCM implementation. Decrypt must throw `NoxyError('CRYPTO')` on a bad tag. */
export interface Aead {
  /** Returns `ciphertext || tag`. */
  encrypt(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array): Uint8Array | Promise<Uint8Array>;
  /** Opens `ciphertext || tag`; never returns partial plaintext. */
  decrypt(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array): Uint8Array | Promise<Uint8Array>;
}

/** The error every AEAD failure becomes: one message whatever byte was altered. */
export function authenticationFailed(cause?: unknown): NoxyError {
  return new NoxyError('CRYPTO', 'envelope authentication failed: the decision was altered or is not for this device', {
    cause,
  });
}

type Buf = Uint8Array<ArrayBuffer>;

/** AES-256 only: WebCrypto would silently run AES-128 on a 16-byte key. */
export function assertAesKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== 32)
    throw new NoxyError('CRYPTO', 'AES-256-GCM key must be 32 bytes');
}

const importKey = (raw: Uint8Array, usage: 'encrypt' | 'decrypt') => {
  assertAesKey(raw);
  return crypto.subtle.importKey('raw', raw as Buf, 'AES-GCM', false, [usage]);
};

/** AES-256-GCM through WebCrypto (`globalThis.crypto.subtle`): browsers, Node, Deno, Bun. */
export const webCryptoAead: Aead = {
  async encrypt(key, nonce, plaintext) {
    const k = await importKey(key, 'encrypt');
    return new Uint8Array(
      await crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce as Buf, tagLength: 128 }, k, plaintext as Buf),
    );
  },
  async decrypt(key, nonce, sealed) {
    const k = await importKey(key, 'decrypt');
    try {
      return new Uint8Array(
        await crypto.subtle.decrypt({ name: 'AES-GCM', iv: nonce as Buf, tagLength: 128 }, k, sealed as Buf),
      );
    } catch (cause) {
      throw authenticationFailed(cause);
    }
  },
};
