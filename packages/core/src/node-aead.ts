/**
 * AES-256-GCM through node:crypto for the envelope (see `Aead`): synchronous, no key import,
 * about 11 µs for a 1 KiB decision against about 60 µs through WebCrypto on the machine kind.
 * @module
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { assertAesKey, authenticationFailed, type Aead } from './envelope/aead.js';
import { TAG_BYTES } from './envelope/envelope.js';

/** AES-256-GCM with node:crypto; byte-identical to the WebCrypto one. */
export const nodeAead: Aead = {
  encrypt(key, nonce, plaintext) {
    assertAesKey(key);
    const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    const head = cipher.update(plaintext);
    const tail = cipher.final();
    const tag = cipher.getAuthTag();
    const out = new Uint8Array(head.length + tail.length + tag.length);
    out.set(head, 0);
    out.set(tail, head.length);
    out.set(tag, head.length + tail.length);
    return out;
  },
  decrypt(key, nonce, sealed) {
    assertAesKey(key);
    if (sealed.length < TAG_BYTES) throw authenticationFailed();
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      const head = decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES));
      const tail = decipher.final(); // throws on a bad tag: nothing from `head` escapes
      const out = new Uint8Array(head.length + tail.length);
      out.set(head, 0);
      out.set(tail, head.length);
      return out;
    } catch (cause) {
      throw authenticationFailed(cause);
    }
  },
};
