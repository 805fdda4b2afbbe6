/**
 * The byte strings a device signs with its Ed25519 key (docs/security.md §10, docs/protocol.md
 * §12.2): one domain-separated, injective encoding per statement, shared by the device (which
 * signs) and the relay and agent (which verify). Portable: no Node built-ins, so the web
 * approval page signs with the same code.
 *
 * Encoding: `u32be(len(label)) || label || u32be(n) || for each field: tag || u32be(len) || bytes`
 * where `tag` is 0x01 for UTF-8 text, 0x02 for raw bytes and 0x03 for a u64be integer. Every
 * field is length-prefixed and every statement has its own label and a fixed field list, so two
 * distinct tuples (of the same or of different statements) never encode to the same bytes, and a
 * signature for one statement can never be presented as another.
 * @module
 */
import { NoxyError } from './errors.js';

/** The statements a device signs, each with its own domain label. */
export const DEVICE_SIGNING_DOMAINS = {
  authenticate: 'noxy-approval/v1/device-proof/authenticate',
  register: 'noxy-approval/v1/device-proof/register-device',
  rotate: 'noxy-approval/v1/device-proof/rotate-device-keys',
  outcome: 'noxy-approval/v1/decision-outcome',
} as const;

/** One field of a signed statement. */
export type SignedField = { text: string } | { bytes: Uint8Array } | { u64: number };

const TEXT = 0x01;
const BYTES = 0x02;
const U64 = 0x03;
const encoder = new TextEncoder();
const LONE_SURROGATE = /\p{Cs}/u;

function u32be(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

function u64be(n: number, name: string): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new NoxyError('INVALID_ARGUMENT', `"${name}" expected a non-negative safe integer, got ${String(n)}`, {
      field: name,
    });
  }
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}

/**
 * The injective encoding of `fields` under `label` (see the module comment).
 * @param label a domain label, e.g. one of {@link DEVICE_SIGNING_DOMAINS}
 * @param fields the statement's fields, in their fixed order
 */
export function encodeSignedFields(label: string, fields: readonly SignedField[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const labelBytes = encoder.encode(label);
  parts.push(u32be(labelBytes.length), labelBytes, u32be(fields.length));
  fields.forEach((f, i) => {
    let tag: number;
    let body: Uint8Array;
    if ('text' in f) {
      // A lone surrogate would encode as U+FFFD, making two distinct strings sign equal bytes.
      if (LONE_SURROGATE.test(f.text)) {
        throw new NoxyError('INVALID_ARGUMENT', `"field ${i}" expected well-formed Unicode text (a lone surrogate)`, {
          field: `field ${i}`,
        });
      }
      tag = TEXT;
      body = encoder.encode(f.text);
    } else if ('bytes' in f) {
      tag = BYTES;
      body = f.bytes;
    } else {
      tag = U64;
      body = u64be(f.u64, `field ${i}`);
    }
    parts.push(Uint8Array.of(tag), u32be(body.length), body);
  });
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** The frame fields a proof of possession covers (docs/protocol.md §5.3 envelope). */
export interface ProofFrame {
  appId: string;
  requestId: string;
  /** ms since the epoch, as sent in `timestamp`. */
  timestamp: number;
  /** The 12 nonce bytes, as sent. */
  nonce: Uint8Array;
  /** Ed25519 public key, 32 bytes. */
  publicKey: Uint8Array;
  /** ML-KEM-768 public key, 1184 bytes. */
  pqPublicKey: Uint8Array;
}

const frameFields = (f: ProofFrame): SignedField[] => [
  { text: f.appId },
  { text: f.requestId },
  { u64: f.timestamp },
  { bytes: f.nonce },
  { bytes: f.publicKey },
  { bytes: f.pqPublicKey },
];

/** The bytes of an `authenticate.device_proof`. */
export function authenticateProofMessage(f: ProofFrame): Uint8Array {
  return encodeSignedFields(DEVICE_SIGNING_DOMAINS.authenticate, frameFields(f));
}

/** What a `register_device.device_proof` covers beyond the frame. */
export interface RegisterProofFields extends ProofFrame {
  identityType: string;
  identityId: string;
  deviceType: string;
}

/** The bytes of a `register_device.device_proof`. */
export function registerProofMessage(f: RegisterProofFields): Uint8Array {
  return encodeSignedFields(DEVICE_SIGNING_DOMAINS.register, [
    ...frameFields(f),
    { text: f.identityType },
    { text: f.identityId },
    { text: f.deviceType },
  ]);
}

/** What a `rotate_device_keys.rotation_proof` (signed by the OLD key) covers. */
export interface RotationFields {
  deviceId: string;
  identityId: string;
  oldPublicKey: Uint8Array;
  newPublicKey: Uint8Array;
  newPqPublicKey: Uint8Array;
  /** The frame's timestamp (ms), which the relay checks is fresh. */
  rotatedAt: number;
}

/** The bytes of a key-rotation announcement. */
export function rotationMessage(f: RotationFields): Uint8Array {
  return encodeSignedFields(DEVICE_SIGNING_DOMAINS.rotate, [
    { text: f.deviceId },
    { text: f.identityId },
    { bytes: f.oldPublicKey },
    { bytes: f.newPublicKey },
    { bytes: f.newPqPublicKey },
    { u64: f.rotatedAt },
  ]);
}

/** The device's answer as it signs it. */
export interface OutcomeFields {
  appId: string;
  identityId: string;
  decisionId: string;
  outcome: 'APPROVE' | 'REJECT';
  /** The decrypted payload's `action_hash`, byte-exact; `''` when it has none. */
  actionHash: string;
  /** When the human decided (ms since epoch, device clock). */
  decidedAt: number;
}

/** The bytes of a `decision_outcome.outcome_signature`. */
export function outcomeMessage(f: OutcomeFields): Uint8Array {
  return encodeSignedFields(DEVICE_SIGNING_DOMAINS.outcome, [
    { text: f.appId },
    { text: f.identityId },
    { text: f.decisionId },
    { text: f.outcome },
    { text: f.actionHash },
    { u64: f.decidedAt },
  ]);
}

/**
 * The `action_hash` of a decrypted payload as a device signs it: the string value when the
 * payload is an object with a string `action_hash`, else `''`.
 */
export function payloadActionHash(payload: unknown): string {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return '';
  const v = (payload as Record<string, unknown>).action_hash;
  return typeof v === 'string' ? v : '';
}
