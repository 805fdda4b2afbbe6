/**
 * Decision handles: what lets any process with the same configuration resume a pending
 * approval — after a restart, or in a second replica — without a shared store
 * (docs/approvals.md "Resuming").
 *
 * A handle is `nxa1_` + base64url(body ‖ tag), where the body holds the decision id, its expiry,
 * its `action_hash` and the tool name, and the tag is HMAC-SHA256 (truncated to 128 bits) over
 * a domain label, the identity asked, the owner (who created it: a principal or an MCP
 * session) and the body, keyed from a configured secret. So a handle cannot be forged, and one
 * made for another identity or owner does not open: it is refused like an unknown id, without
 * asking the relay. The handle carries no secret; the decision's content stays on the devices.
 * @module
 */
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { NoxyError } from '../errors.js';
import type { Identity } from '../identity.js';

/** The prefix every handle starts with (the version is part of it). */
export const HANDLE_PREFIX = 'nxa1_';
const LABEL = Buffer.from('noxy-approval decision handle v1\0');
const TAG_BYTES = 16;
const FIXED_BYTES = 16 + 6 + 32; // uuid, expiry (48-bit ms), action hash
const UUID = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/;

/** What a handle proves about a decision. */
export interface HandleClaims {
  decisionId: string;
  tool: string;
  actionHash: string;
  /** ms since the epoch */
  expiresAt: number;
}

/** Who a handle is bound to; checked when it is opened. */
export interface HandleBinding {
  identity: Identity;
  /** The creator: an authenticated principal, an MCP session, or `''` (the identity alone). */
  owner: string;
}

/** Seals and opens handles with one key. */
export interface HandleCodec {
  seal(claims: HandleClaims, binding: HandleBinding): string;
  /** The claims, or `undefined` when the handle is malformed, forged or bound to someone else. */
  open(handle: string, binding: HandleBinding): HandleClaims | undefined;
}

/** True when `value` has the shape of a handle (it may still be forged). */
export function looksLikeHandle(value: string): boolean {
  return value.startsWith(HANDLE_PREFIX);
}

function lengthPrefixed(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(bytes.length);
  return Buffer.concat([len, bytes]);
}

/**
 * Creates a codec. The key is derived with HKDF-SHA256 from `secret`, so the secret may be any
 * high-entropy string the deployment already shares (e.g. the app token) without the handle
 * key being usable for anything else.
 * @param secret at least 16 bytes; omitted → a random key, so handles open only in this process
 * @throws NoxyError `INVALID_ARGUMENT` for a short secret
 */
export function createHandleCodec(secret?: string | Uint8Array): HandleCodec {
  const material =
    secret === undefined
      ? randomBytes(32)
      : typeof secret === 'string'
        ? Buffer.from(secret, 'utf8')
        : Buffer.from(secret);
  if (material.length < 16) {
    throw new NoxyError('INVALID_ARGUMENT', '"handleSecret" expected at least 16 bytes of secret', {
      field: 'handleSecret',
    });
  }
  const key = Buffer.from(hkdfSync('sha256', material, Buffer.alloc(0), LABEL, 32));
  const tagOf = (body: Buffer, b: HandleBinding): Buffer =>
    createHmac('sha256', key)
      .update(LABEL)
      .update(lengthPrefixed(b.identity.type))
      .update(lengthPrefixed(b.identity.id))
      .update(lengthPrefixed(b.owner))
      .update(body)
      .digest()
      .subarray(0, TAG_BYTES);

  return {
    seal(claims, binding) {
      const m = UUID.exec(claims.decisionId);
      if (!m || !/^[0-9a-f]{64}$/.test(claims.actionHash)) {
        throw new NoxyError('INVALID_ARGUMENT', 'a handle needs a lowercase UUID decision id and a hex action hash');
      }
      const expiry = Buffer.alloc(6);
      expiry.writeUIntBE(claims.expiresAt, 0, 6);
      const body = Buffer.concat([
        Buffer.from(m.slice(1).join(''), 'hex'),
        expiry,
        Buffer.from(claims.actionHash, 'hex'),
        Buffer.from(claims.tool, 'utf8'),
      ]);
      return HANDLE_PREFIX + Buffer.concat([body, tagOf(body, binding)]).toString('base64url');
    },
    open(handle, binding) {
      if (!looksLikeHandle(handle)) return undefined;
      const encoded = handle.slice(HANDLE_PREFIX.length);
      if (!/^[A-Za-z0-9_-]+$/.test(encoded)) return undefined;
      const raw = Buffer.from(encoded, 'base64url');
      if (raw.length <= FIXED_BYTES + TAG_BYTES) return undefined;
      const body = raw.subarray(0, raw.length - TAG_BYTES);
      const tag = raw.subarray(raw.length - TAG_BYTES);
      if (!timingSafeEqual(tag, tagOf(body, binding))) return undefined;
      const hex = body.subarray(0, 16).toString('hex');
      return {
        decisionId: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`,
        expiresAt: body.readUIntBE(16, 6),
        actionHash: body.subarray(22, 54).toString('hex'),
        tool: body.subarray(54).toString('utf8'),
      };
    },
  };
}
