/**
 * An independent implementation of the registration HMAC (docs/protocol.md §5.6) on node:crypto,
 * so the relay's tests do not check the device package against itself.
 * @module
 */
import { createHash, createHmac } from 'node:crypto';

/** Inputs of the registration MAC. */
export interface MacFields {
  appId: string;
  identityType: 'wallet' | 'email' | 'phone' | 'user_id';
  identityId: string;
  publicKey: Uint8Array;
  pqPublicKey: Uint8Array;
  deviceType: string;
}

/**
 * `HMAC-SHA256(trim(key), "NOXY_DEVICE_REGISTER_V1" ␟ appId ␟ type ␟ id ␟ hex(sha256(pk)) ␟
 * hex(sha256(pq)) ␟ deviceType)`.
 * @param key app signing secret or pairing code
 */
export function registrationMac(key: string, f: MacFields): Buffer {
  const hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
  const message = [
    'NOXY_DEVICE_REGISTER_V1',
    f.appId,
    f.identityType,
    f.identityId,
    hex(f.publicKey),
    hex(f.pqPublicKey),
    f.deviceType,
  ].join('\u001f');
  return createHmac('sha256', key.trim()).update(message, 'utf8').digest();
}
