/**
 * Small byte helpers that run in Node and in browsers (no Node built-ins): strict base64,
 * random bytes and UUIDs from `globalThis.crypto`.
 * @module
 */
import { NoxyError } from '@noxy-approval/core/portable';

/** Standard base64 (RFC 4648 §4) with padding. */
export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  // Chunked so a large buffer does not overflow the argument list of fromCharCode.
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * Decodes standard base64 (padded) or unpadded base64url; anything else is refused, unlike
 * `atob`, which silently skips whitespace.
 * @param text the encoded string
 * @param field the field name for the error message
 * @throws NoxyError `PROTOCOL` naming the field
 */
export function fromBase64(text: string, field: string): Uint8Array {
  let std: string;
  if (BASE64.test(text)) std = text;
  else if (BASE64URL.test(text) && text.length % 4 !== 1) {
    std = text.replace(/-/g, '+').replace(/_/g, '/');
    std += '='.repeat((4 - (std.length % 4)) % 4);
  } else {
    throw new NoxyError('PROTOCOL', `"${field}" expected base64, got a string of length ${text.length}`);
  }
  const binary = atob(std);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** `length` bytes from the platform CSPRNG. */
export function randomBytes(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length));
}

/** A random UUID v4 (`crypto.randomUUID`; browsers offer it in secure contexts). */
export function randomUuid(): string {
  return crypto.randomUUID();
}

/** Constant-time equality of two byte strings. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** Big-endian 8-byte encoding of a non-negative integer below 2^53 (a ms timestamp). */
export function uint64be(value: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value));
  return out;
}
