/**
 * What both device factories (Node and browser) share: option checks, and loading the
 * device record from the key store — or creating and storing fresh keys the first time for
 * this (app, identity). Browser-safe.
 * @module
 */
import type { Identity } from '@noxy-approval/core';
import { NoxyError, loadKemBackend, type Aead, type KemBackend, type KemChoice } from '@noxy-approval/core/portable';
import type { BackoffOptions } from './backoff.js';
import { NoxyDevice } from './device.js';
import { generateDeviceKeys } from './keys.js';
import type { Ed25519Sign } from './proofs.js';
import {
  createMemoryKeyStore,
  decodeStoredDevice,
  encodeStoredDevice,
  type KeyStore,
  type StoredDevice,
  type StoreKey,
} from './key-store.js';
import { bytesEqual } from './bytes.js';
import { registrationSignature } from './registration.js';
import type { Transport } from './transport.js';

/** Options every device factory accepts. */
export interface DeviceBaseOptions {
  /** The relay: `https://host[:port]`, or `http://127.0.0.1:port` for a local relay. */
  relayUrl: string;
  /** The Noxy app id (from `noxy-relay app create` or the Noxy dashboard). */
  appId: string;
  /**
   * App signing secret (APP_SIGNING_SECRET), used only to compute the registration HMAC
   * (docs/protocol.md §5.6); never sent or stored. Pass this or `pairingCode`, not both.
   */
  signingSecret?: string;
  /** One-time pairing code from `noxy-relay pair`; used like the secret, never sent. */
  pairingCode?: string;
  /** Where the keys live; a memory store (keys lost on exit) when omitted. */
  keyStore?: KeyStore;
  /** `RegisterDevice.type`. Default `desktop` (Node) or `browser`. */
  deviceType?: string;
  /** ML-KEM-768 backend: `auto` (default), `mlkem`, `liboqs` or an instance. */
  kem?: KemChoice;
  /** AES-256-GCM implementation. */
  aead?: Aead;
  /** Timeout of each request to the relay, ms. Default 10,000. */
  requestTimeoutMs?: number;
  /** Reconnect backoff. Default 500 ms doubling, capped at 30 s, equal jitter. */
  reconnect?: BackoffOptions;
  /** Clock (ms since epoch), for tests. */
  now?: () => number;
  /** Uniform [0,1) source for reconnect jitter, for tests. */
  random?: () => number;
}

const APP_ID = /^[\x21-\x7e]{1,256}$/;
const DEVICE_TYPE = /^[a-z0-9_-]{1,32}$/;

function invalid(field: string, expected: string): NoxyError {
  return new NoxyError('INVALID_ARGUMENT', `"${field}" expected ${expected}`, { field });
}

/** Checks the options shared by the factories. @throws NoxyError `INVALID_ARGUMENT` */
export function checkBaseOptions(o: DeviceBaseOptions, defaultDeviceType: string): { deviceType: string } {
  if (typeof o !== 'object' || o === null) throw invalid('options', 'an object');
  if (typeof o.appId !== 'string' || !APP_ID.test(o.appId))
    throw invalid('appId', 'a non-empty app id of printable ASCII without spaces');
  if (typeof o.relayUrl !== 'string' || o.relayUrl.length === 0) throw invalid('relayUrl', 'a URL string');
  for (const field of ['signingSecret', 'pairingCode'] as const) {
    const v = o[field];
    if (v !== undefined && (typeof v !== 'string' || v.trim().length === 0)) throw invalid(field, 'a non-empty string');
  }
  if (o.signingSecret !== undefined && o.pairingCode !== undefined)
    throw invalid('pairingCode', 'to be omitted when signingSecret is given');
  const deviceType = o.deviceType ?? defaultDeviceType;
  if (typeof deviceType !== 'string' || !DEVICE_TYPE.test(deviceType))
    throw invalid('deviceType', 'a short lower-case word such as desktop or browser');
  if (o.requestTimeoutMs !== undefined && !(Number.isFinite(o.requestTimeoutMs) && o.requestTimeoutMs > 0)) {
    throw invalid('requestTimeoutMs', 'a positive number of milliseconds');
  }
  return { deviceType };
}

/**
 * Loads the record of (app, identity) — refusing a tampered key pair — or creates, stores and
 * returns a new one. Refreshes the stored registration signature when a secret or pairing code
 * is given (so a later reconnect can register again without it).
 * @throws NoxyError `CRYPTO` for a refused stored key pair
 */
export async function loadOrCreateRecord(
  store: KeyStore,
  key: StoreKey,
  deviceType: string,
  kem: KemBackend,
  hmacKey: string | undefined,
  now: number,
): Promise<StoredDevice> {
  const doc = await store.read(key);
  const stored = doc === undefined ? undefined : decodeStoredDevice(doc, key);
  // A stored signature covers the stored device type; without a key to re-sign, keep that type.
  const type = stored && hmacKey === undefined ? stored.deviceType : deviceType;
  const record: StoredDevice = stored
    ? { ...stored, deviceType: type }
    : { ...key, deviceType: type, keys: generateDeviceKeys(kem), createdAt: now };
  if (hmacKey !== undefined) {
    record.registrationSignature = registrationSignature(hmacKey, {
      appId: key.appId,
      identityType: key.identityType,
      identityId: key.identityId,
      publicKey: record.keys.ed25519.publicKey,
      pqPublicKey: record.keys.mlkem.publicKey,
      deviceType: type,
    });
  }
  const changed =
    !stored ||
    stored.deviceType !== record.deviceType ||
    !(
      stored.registrationSignature &&
      record.registrationSignature &&
      bytesEqual(stored.registrationSignature, record.registrationSignature)
    );
  if (changed && (record.registrationSignature || !stored)) await store.write(key, encodeStoredDevice(record));
  return record;
}

/** Builds a device once the factory has checked the identity and chosen the transport. */
export async function buildDevice(
  o: DeviceBaseOptions,
  identity: Identity,
  transport: Transport,
  defaultDeviceType: string,
  aead: Aead | undefined,
  sign?: Ed25519Sign,
): Promise<NoxyDevice> {
  const { deviceType } = checkBaseOptions(o, defaultDeviceType);
  const kem = await loadKemBackend(o.kem ?? 'auto');
  const keyStore = o.keyStore ?? createMemoryKeyStore();
  const now = o.now ?? Date.now;
  const storeKey = { appId: o.appId, identityType: identity.type, identityId: identity.id };
  const record = await loadOrCreateRecord(keyStore, storeKey, deviceType, kem, o.signingSecret ?? o.pairingCode, now());
  return new NoxyDevice({
    appId: o.appId,
    identity,
    record,
    keyStore,
    transport,
    kem,
    ...(aead ? { aead } : {}),
    ...(o.signingSecret !== undefined ? { signingSecret: o.signingSecret } : {}),
    ...(o.pairingCode !== undefined ? { pairingCode: o.pairingCode } : {}),
    ...(o.requestTimeoutMs !== undefined ? { requestTimeoutMs: o.requestTimeoutMs } : {}),
    ...(o.reconnect ? { reconnect: o.reconnect } : {}),
    ...(o.now ? { now: o.now } : {}),
    ...(o.random ? { random: o.random } : {}),
    ...(sign ? { sign } : {}),
  });
}
