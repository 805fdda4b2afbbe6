/**
 * Ed25519 signing with Node's OpenSSL for the Node device (the browser uses `@noble/curves`):
 * the same deterministic RFC 8032 signatures, an order of magnitude faster than pure JS, which
 * matters on every authenticate and every answer (proofs.ts). Node only.
 * @module
 */
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import type { Ed25519Sign } from './proofs.js';

// PKCS#8 prefix of an Ed25519 private key (RFC 8410): the 32-byte seed follows.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const keys = new WeakMap<Uint8Array, KeyObject>();

/** Signs `message` with the 32-byte Ed25519 secret key (seed) via node:crypto. */
export const nodeEd25519Sign: Ed25519Sign = (message, secretKey) => {
  let key = keys.get(secretKey);
  if (!key) {
    key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, secretKey]), format: 'der', type: 'pkcs8' });
    keys.set(secretKey, key);
  }
  return new Uint8Array(sign(null, message, key));
};
