/**
 * The WebSocket JSON encoding of the Client API (docs/protocol.md §5.4, docs/local-relay-contract.md):
 * requests carry an **untagged** `payload` told apart by shape; responses are oneof-**tagged**
 * camelCase objects (`{"requestId", "status", "authenticate": {...}}`); bytes are base64
 * strings, uint64 are JSON numbers, enums are their names. Browser-safe.
 * @module
 */
import { NoxyError } from '@noxy-approval/core/portable';
import { fromBase64, toBase64 } from './bytes.js';
import {
  DEVICE_ERROR_CODES,
  type DeviceErrorCode,
  type OutcomeValue,
  type RequestPayload,
  type ResponsePayload,
  type WirePublicKeys,
  type WireRequest,
  type WireResponse,
} from './wire.js';

type Json = Record<string, unknown>;

const keysJson = (k: WirePublicKeys) => ({ publicKey: toBase64(k.publicKey), pqPublicKey: toBase64(k.pqPublicKey) });

/** Wallets go in `walletAddress`, other kinds in `identityId` (docs/protocol.md §6). */
const identityJson = (identityType: string, identityId: string): Json =>
  identityType === 'wallet' ? { identityType, walletAddress: identityId } : { identityType, identityId };

function payloadJson(p: RequestPayload): Json {
  switch (p.kind) {
    case 'authenticate':
      return { devicePubkeys: keysJson(p.keys), ...(p.proof ? { deviceProof: toBase64(p.proof) } : {}) };
    case 'registerDevice':
      return {
        devicePubkeys: keysJson(p.keys),
        ...identityJson(p.identityType, p.identityId),
        signature: toBase64(p.signature),
        type: p.deviceType,
        ...(p.proof ? { deviceProof: toBase64(p.proof) } : {}),
      };
    case 'subscribeDecisions':
      return { subscribe: p.subscribe };
    case 'revokeDevice':
      return { walletAddress: p.identityId, signature: toBase64(p.signature) };
    case 'rotateDeviceKeys':
      return {
        newPubkeys: keysJson(p.newKeys),
        ...identityJson(p.identityType, p.identityId),
        signature: toBase64(p.signature),
        ...(p.proof ? { rotationProof: toBase64(p.proof) } : {}),
      };
    case 'decisionOutcome':
      return {
        decisionId: p.decisionId,
        outcome: p.outcome,
        receivedAt: p.receivedAt,
        ...(p.signed
          ? {
              outcomeSignature: toBase64(p.signed.signature),
              decidedAt: p.signed.decidedAt,
              actionHash: p.signed.actionHash,
            }
          : {}),
      };
    case 'decisionAck':
      // The browser SDK's ack shape (`messageId`); the local relay accepts it (contract).
      return { messageId: p.decisionId, receivedAt: p.receivedAt };
  }
}

/** Encodes a request as the JSON text of one WebSocket frame. */
export function encodeWsRequest(r: WireRequest): string {
  const out: Json = { requestId: r.requestId, appId: r.appId, timestamp: r.timestamp, nonce: toBase64(r.nonce) };
  if (r.deviceId !== undefined) out.deviceId = r.deviceId;
  if (r.sessionId !== undefined) out.sessionId = r.sessionId;
  out.payload = payloadJson(r.payload);
  return JSON.stringify(out);
}

function protocolError(what: string): NoxyError {
  return new NoxyError('PROTOCOL', `malformed WebSocket message from the relay: ${what}`);
}

function obj(v: unknown, field: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw protocolError(`"${field}" is not an object`);
  return v as Json;
}

function str(o: Json, name: string, field: string, optional: true): string | undefined;
function str(o: Json, name: string, field: string): string;
function str(o: Json, name: string, field: string, optional = false): string | undefined {
  const v = o[name];
  if (v === undefined || v === null) {
    if (optional) return undefined;
    return '';
  }
  if (typeof v !== 'string') throw protocolError(`"${field}.${name}" is not a string`);
  return v;
}

function num(o: Json, name: string, field: string): number {
  const v = o[name];
  if (v === undefined || v === null) return 0;
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw protocolError(`"${field}.${name}" is not a number`);
  return n;
}

function bool(o: Json, name: string, field: string): boolean {
  const v = o[name];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw protocolError(`"${field}.${name}" is not a boolean`);
  return v;
}

function bytes(o: Json, names: string[], field: string): Uint8Array {
  const name = names.find((n) => o[n] !== undefined && o[n] !== null);
  const v = name === undefined ? undefined : o[name];
  if (typeof v === 'string') return fromBase64(v, `${field}.${name}`);
  // The browser SDK also accepts byte arrays; so do we.
  if (Array.isArray(v) && v.every((b) => Number.isInteger(b) && b >= 0 && b <= 255))
    return Uint8Array.from(v as number[]);
  throw protocolError(`"${field}.${names[0]}" is not base64`);
}

function outcome(o: Json, field: string): OutcomeValue {
  const v = o.outcome;
  // A missing enum is its proto3 zero value, APPROVE.
  if (v === undefined || v === null || v === 'APPROVE' || v === 0) return 'APPROVE';
  if (v === 'REJECT' || v === 1) return 'REJECT';
  throw protocolError(`"${field}.outcome" is not APPROVE or REJECT`);
}

function errorCode(v: unknown): DeviceErrorCode {
  if (typeof v === 'string' && (DEVICE_ERROR_CODES as readonly string[]).includes(v)) return v as DeviceErrorCode;
  if (typeof v === 'number' && Number.isInteger(v)) return DEVICE_ERROR_CODES[v] ?? `UNKNOWN_${v}`;
  if (v === undefined || v === null) return 'UNAUTHORIZED'; // proto3 zero value
  return `UNKNOWN_${String(v).slice(0, 40)}`;
}

const RESPONSE_DECODERS: { [K in ResponsePayload['kind']]: (o: Json) => Extract<ResponsePayload, { kind: K }> } = {
  authenticate: (o) => {
    const r: ResponsePayload & { kind: 'authenticate' } = {
      kind: 'authenticate',
      requiresRegistration: bool(o, 'requiresRegistration', 'authenticate'),
    };
    const deviceId = str(o, 'deviceId', 'authenticate', true);
    const sessionId = str(o, 'sessionId', 'authenticate', true);
    if (deviceId) r.deviceId = deviceId;
    if (sessionId) r.sessionId = sessionId;
    return r;
  },
  registerDevice: (o) => ({
    kind: 'registerDevice',
    deviceId: str(o, 'deviceId', 'registerDevice'),
    registeredAt: num(o, 'registeredAt', 'registerDevice'),
    sessionId: str(o, 'sessionId', 'registerDevice'),
  }),
  subscribeDecisions: (o) => ({ kind: 'subscribeDecisions', subscribed: bool(o, 'subscribed', 'subscribeDecisions') }),
  revokeDevice: (o) => ({ kind: 'revokeDevice', revokedDeviceId: str(o, 'revokedDeviceId', 'revokeDevice') }),
  rotateDeviceKeys: (o) => ({ kind: 'rotateDeviceKeys', rotatedAt: num(o, 'rotatedAt', 'rotateDeviceKeys') }),
  decisionOutcome: (o) => ({
    kind: 'decisionOutcome',
    decisionId: str(o, 'decisionId', 'decisionOutcome'),
    outcome: outcome(o, 'decisionOutcome'),
  }),
  decisionEvent: (o) => ({
    kind: 'decisionEvent',
    kyberCt: bytes(o, ['kyberCt', 'kyber_ct'], 'decisionEvent'),
    nonce: bytes(o, ['nonce'], 'decisionEvent'),
    ciphertext: bytes(o, ['ciphertext'], 'decisionEvent'),
  }),
  decisionRouted: (o) => ({ kind: 'decisionRouted', decisionId: str(o, 'decisionId', 'decisionRouted') }),
  decisionAck: (o) => ({ kind: 'decisionAck', decisionId: str(o, 'decisionId', 'decisionAck') }),
  error: (o) => ({
    kind: 'error',
    code: errorCode(o.code),
    message: str(o, 'message', 'error'),
    retryable: bool(o, 'retryable', 'error'),
  }),
};

const RESPONSE_KINDS = Object.keys(RESPONSE_DECODERS) as ResponsePayload['kind'][];

/**
 * Decodes one WebSocket frame from the relay.
 * @param text the frame's UTF-8 text
 * @throws NoxyError `PROTOCOL` for anything that is not a well-formed tagged response
 */
export function decodeWsResponse(text: string): WireResponse {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw protocolError('not JSON');
  }
  const o = obj(parsed, 'message');
  const tags = RESPONSE_KINDS.filter((k) => o[k] !== undefined && o[k] !== null);
  if (tags.length > 1) throw protocolError(`several payloads (${tags.join(', ')})`);
  const status = o.status;
  const response: WireResponse = {
    requestId: str(o, 'requestId', 'message'),
    status: status === 'ERROR' || status === 'error' || status === 1 ? 'ERROR' : 'OK',
    timestamp: num(o, 'timestamp', 'message'),
  };
  const messageId = str(o, 'messageId', 'message', true);
  if (messageId !== undefined) response.messageId = messageId;
  const tag = tags[0];
  if (tag) response.payload = RESPONSE_DECODERS[tag](obj(o[tag], tag));
  return response;
}
