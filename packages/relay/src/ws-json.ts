/**
 * The WebSocket JSON dialect of the Client API (docs/protocol.md §5.4, contract "WebSocket JSON").
 *
 * Requests: `{ requestId, appId, sessionId?, deviceId?, timestamp, nonce: base64, payload }`
 * with an untagged `payload` recognised by shape (the browser SDK), or — also accepted — a
 * payload tagged by its oneof name (`{ "decisionAck": {…} }`). Bytes are base64 strings or
 * arrays of byte values; registration also takes `identityType` / `identityId`.
 *
 * Responses: oneof-tagged camelCase objects, bytes as base64, uint64 as numbers, enums by name.
 * @module
 */
import { device } from '@noxy-approval/proto';

/** A frame that could not become a DeviceRequest. */
export interface JsonProblem {
  requestId: string;
  message: string;
}

type Json = Record<string, unknown>;
type Payload = NonNullable<device.DeviceRequest['payload']>;

class FieldError extends Error {}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function bytes(v: unknown, field: string): Buffer {
  if (v === undefined || v === null) return Buffer.alloc(0);
  if (typeof v === 'string') {
    if (!BASE64.test(v)) throw new FieldError(`"${field}" expected base64`);
    return Buffer.from(v, v.includes('-') || v.includes('_') ? 'base64url' : 'base64');
  }
  if (Array.isArray(v) && v.every((b) => Number.isInteger(b) && (b as number) >= 0 && (b as number) <= 255)) {
    return Buffer.from(v as number[]);
  }
  throw new FieldError(`"${field}" expected a base64 string or an array of bytes`);
}

function str(v: unknown, field: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new FieldError(`"${field}" expected a string`);
  return v;
}

function optStr(v: unknown, field: string): string | undefined {
  return v === undefined || v === null ? undefined : str(v, field);
}

function uint64(v: unknown, field: string): bigint {
  if (v === undefined || v === null) return 0n;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === 'string' && /^\d{1,20}$/.test(v)) return BigInt(v);
  throw new FieldError(`"${field}" expected a non-negative integer`);
}

function enumValue(v: unknown, field: string, names: readonly string[], aliases: Record<string, number> = {}): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string') {
    const i = names.indexOf(v);
    if (i >= 0) return i;
    const alias = aliases[v];
    if (alias !== undefined) return alias;
  }
  throw new FieldError(`"${field}" expected one of ${names.join(', ')}`);
}

const IDENTITY_NAMES = [
  'IDENTITY_TYPE_WALLET',
  'IDENTITY_TYPE_EMAIL',
  'IDENTITY_TYPE_PHONE',
  'IDENTITY_TYPE_USER_ID',
] as const;
const IDENTITY_ALIASES = { wallet: 0, email: 1, phone: 2, user_id: 3 };

function keys(v: unknown, field: string): device.DevicePublicKeys | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw new FieldError(`"${field}" expected an object`);
  return {
    publicKey: bytes(v.publicKey ?? v.public_key, `${field}.publicKey`),
    pqPublicKey: bytes(v.pqPublicKey ?? v.pq_public_key, `${field}.pqPublicKey`),
  };
}

const TAGS = [
  'authenticate',
  'registerDevice',
  'subscribeDecisions',
  'revokeDevice',
  'rotateDeviceKeys',
  'decisionOutcome',
  'decisionAck',
] as const;
type Tag = (typeof TAGS)[number];

// The browser SDK sends payloads untagged (docs/protocol.md §5.4 table); recognise them by shape.
function shapeOf(p: Json): Tag | undefined {
  const tagged = TAGS.filter((t) => isObject(p[t]));
  if (tagged.length === 1 && Object.keys(p).length === 1) return tagged[0];
  if ('outcome' in p) return 'decisionOutcome';
  if ('newPubkeys' in p) return 'rotateDeviceKeys';
  if ('devicePubkeys' in p) {
    const registration = ['signature', 'walletAddress', 'identityId', 'identityType', 'type'].some((k) => k in p);
    return registration ? 'registerDevice' : 'authenticate';
  }
  if ('messageId' in p || 'decisionId' in p || 'receivedAt' in p) return 'decisionAck';
  if ('subscribe' in p || 'apnToken' in p || 'fcmToken' in p) return 'subscribeDecisions';
  if ('walletAddress' in p || 'signature' in p) return 'revokeDevice';
  return undefined;
}

function payloadOf(tag: Tag, p: Json): Payload {
  switch (tag) {
    case 'authenticate':
      return {
        $case: tag,
        value: {
          devicePubkeys: keys(p.devicePubkeys, 'payload.devicePubkeys'),
          deviceProof: bytes(p.deviceProof, 'payload.deviceProof'),
        },
      };
    case 'registerDevice':
      return {
        $case: tag,
        value: {
          devicePubkeys: keys(p.devicePubkeys, 'payload.devicePubkeys'),
          walletAddress: optStr(p.walletAddress, 'payload.walletAddress'),
          signature: bytes(p.signature, 'payload.signature'),
          apnToken: optStr(p.apnToken, 'payload.apnToken'),
          fcmToken: optStr(p.fcmToken, 'payload.fcmToken'),
          type: str(p.type, 'payload.type'),
          identityType: enumValue(p.identityType, 'payload.identityType', IDENTITY_NAMES, IDENTITY_ALIASES),
          identityId: str(p.identityId, 'payload.identityId'),
          deviceProof: bytes(p.deviceProof, 'payload.deviceProof'),
        },
      };
    case 'subscribeDecisions': {
      if (p.subscribe !== undefined && typeof p.subscribe !== 'boolean')
        throw new FieldError('"payload.subscribe" expected a boolean');
      return {
        $case: tag,
        value: {
          subscribe: p.subscribe as boolean | undefined,
          apnToken: optStr(p.apnToken, 'payload.apnToken'),
          fcmToken: optStr(p.fcmToken, 'payload.fcmToken'),
        },
      };
    }
    case 'revokeDevice':
      return {
        $case: tag,
        value: {
          walletAddress: str(p.walletAddress, 'payload.walletAddress'),
          signature: bytes(p.signature, 'payload.signature'),
        },
      };
    case 'rotateDeviceKeys':
      return {
        $case: tag,
        value: {
          newPubkeys: keys(p.newPubkeys, 'payload.newPubkeys'),
          walletAddress: optStr(p.walletAddress, 'payload.walletAddress'),
          signature: bytes(p.signature, 'payload.signature'),
          identityType: enumValue(p.identityType, 'payload.identityType', IDENTITY_NAMES, IDENTITY_ALIASES),
          identityId: str(p.identityId, 'payload.identityId'),
          rotationProof: bytes(p.rotationProof, 'payload.rotationProof'),
        },
      };
    case 'decisionOutcome':
      return {
        $case: tag,
        value: {
          decisionId: str(p.decisionId ?? p.messageId, 'payload.decisionId'),
          outcome: enumValue(p.outcome, 'payload.outcome', ['APPROVE', 'REJECT']),
          receivedAt: uint64(p.receivedAt, 'payload.receivedAt'),
          // noxy-approval extension (docs/protocol.md §12.2); absent from official SDKs.
          outcomeSignature: bytes(p.outcomeSignature, 'payload.outcomeSignature'),
          decidedAt: uint64(p.decidedAt, 'payload.decidedAt'),
          actionHash: str(p.actionHash, 'payload.actionHash'),
        },
      };
    case 'decisionAck':
      // v1 ClientAck shape `{messageId}` (browser SDK) and `{decisionId}` are both accepted.
      return {
        $case: tag,
        value: {
          decisionId: str(p.decisionId ?? p.messageId, 'payload.decisionId'),
          receivedAt: uint64(p.receivedAt, 'payload.receivedAt'),
        },
      };
  }
}

/**
 * Parses one WebSocket frame into a DeviceRequest.
 * @param text the frame as UTF-8 text
 * @returns the request, or a problem to answer with `error INVALID_REQUEST`
 */
export function parseWsRequest(text: string): device.DeviceRequest | JsonProblem {
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return { requestId: '', message: 'malformed JSON frame' };
  }
  if (!isObject(frame)) return { requestId: '', message: 'frame expected a JSON object' };
  const requestId = typeof frame.requestId === 'string' ? frame.requestId : '';
  try {
    const p = frame.payload;
    if (!isObject(p)) throw new FieldError('"payload" expected an object');
    const tag = shapeOf(p);
    if (!tag) throw new FieldError('"payload" has no recognised shape');
    const inner = TAGS.includes(tag) && isObject(p[tag]) && Object.keys(p).length === 1 ? (p[tag] as Json) : p;
    return {
      requestId: str(frame.requestId, 'requestId'),
      appId: str(frame.appId, 'appId'),
      deviceId: optStr(frame.deviceId, 'deviceId'),
      sessionId: optStr(frame.sessionId, 'sessionId'),
      timestamp: uint64(frame.timestamp, 'timestamp'),
      nonce: bytes(frame.nonce, 'nonce'),
      payload: payloadOf(tag, inner),
    };
  } catch (error) {
    if (error instanceof FieldError) return { requestId, message: error.message };
    throw error;
  }
}

/** True when {@link parseWsRequest} failed. */
export function isJsonProblem(value: device.DeviceRequest | JsonProblem): value is JsonProblem {
  return 'message' in value && !('payload' in value);
}

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');

function payloadJson(p: NonNullable<device.DeviceResponse['payload']>): Json {
  switch (p.$case) {
    case 'authenticate':
      return {
        requiresRegistration: p.value.requiresRegistration,
        deviceId: p.value.deviceId,
        sessionId: p.value.sessionId,
      };
    case 'registerDevice':
      return { deviceId: p.value.deviceId, registeredAt: Number(p.value.registeredAt), sessionId: p.value.sessionId };
    case 'subscribeDecisions':
      return { subscribed: p.value.subscribed };
    case 'revokeDevice':
      return { revokedDeviceId: p.value.revokedDeviceId };
    case 'rotateDeviceKeys':
      return { rotatedAt: Number(p.value.rotatedAt) };
    case 'decisionOutcome':
      return { decisionId: p.value.decisionId, outcome: device.decisionOutcomeValueToJSON(p.value.outcome) };
    case 'decisionEvent':
      return { kyberCt: b64(p.value.kyberCt), nonce: b64(p.value.nonce), ciphertext: b64(p.value.ciphertext) };
    case 'error':
      return { code: device.errorCodeToJSON(p.value.code), message: p.value.message, retryable: p.value.retryable };
    case 'decisionRouted':
      return { decisionId: p.value.decisionId };
    case 'decisionAck':
      return { decisionId: p.value.decisionId };
  }
}

/**
 * Serialises a DeviceResponse as the WebSocket JSON frame.
 * @param r the response
 */
export function wsResponseJson(r: device.DeviceResponse): string {
  const frame: Json = {
    requestId: r.requestId,
    messageId: r.messageId,
    status: device.responseStatusToJSON(r.status),
    timestamp: Number(r.timestamp),
  };
  if (r.payload) frame[r.payload.$case] = payloadJson(r.payload);
  return JSON.stringify(frame);
}
