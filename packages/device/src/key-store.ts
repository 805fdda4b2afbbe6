/**
 * Where a device keeps its keys: one record per (app, identity), as in every official SDK
 * (docs/protocol.md §5.10). A {@link KeyStore} stores the record as a JSON document; this module owns
 * the document format and the checks done on load, so every store (memory, file, a browser
 * one) refuses a tampered key pair the same way.
 *
 * Browser storage: this package ships no IndexedDB store yet; a page can implement
 * {@link KeyStore} over IndexedDB with {@link encodeStoredDevice}/{@link decodeStoredDevice},
 * or use {@link createMemoryKeyStore} (keys lost on reload).
 * @module
 */
import { IDENTITY_TYPES, type IdentityType } from '@noxy-approval/core/portable';
import { NoxyError } from '@noxy-approval/core/portable';
import { fromBase64, toBase64 } from './bytes.js';
import { checkDeviceKeys, type DeviceKeys } from './keys.js';

/** The (app, identity) a record belongs to. */
export interface StoreKey {
  appId: string;
  identityType: IdentityType;
  identityId: string;
}

/** Everything a device persists. Contains secret keys: never log or print it. */
export interface StoredDevice extends StoreKey {
  /** `RegisterDevice.type` the registration signature was made for. */
  deviceType: string;
  keys: DeviceKeys;
  /**
   * The registration signature (HMAC of docs/protocol.md §5.6) for these keys, kept so the device can
   * register again after a relay forgets it without holding the app secret (a pairing code is
   * single-use). Not a secret: it only authorises these public keys for this identity.
   */
  registrationSignature?: Uint8Array;
  /** ms since the epoch when the keys were created. */
  createdAt: number;
}

/**
 * Persistence for device records, one per (app, identity). Implementations store the JSON
 * text of {@link encodeStoredDevice} and must return it unchanged.
 */
export interface KeyStore {
  /** The stored document for `key`, or `undefined` when there is none. */
  read(key: StoreKey): Promise<string | undefined>;
  /** Replaces the document for `key` (atomically where the medium allows). */
  write(key: StoreKey, document: string): Promise<void>;
  /** Removes the document for `key`; no error when absent. */
  remove(key: StoreKey): Promise<void>;
}

const FORMAT = 'noxy-device-keys/v1';

/** Serialises a record to the store's JSON document (keys as base64). */
export function encodeStoredDevice(record: StoredDevice): string {
  const { keys } = record;
  return JSON.stringify({
    format: FORMAT,
    appId: record.appId,
    identityType: record.identityType,
    identityId: record.identityId,
    deviceType: record.deviceType,
    createdAt: record.createdAt,
    ed25519: { secretKey: toBase64(keys.ed25519.secretKey), publicKey: toBase64(keys.ed25519.publicKey) },
    mlkem: { secretKey: toBase64(keys.mlkem.secretKey), publicKey: toBase64(keys.mlkem.publicKey) },
    registrationSignature: record.registrationSignature ? toBase64(record.registrationSignature) : null,
  });
}

/**
 * Parses and checks a stored document. Refuses (never repairs) a document that is not ours,
 * belongs to another (app, identity), or holds a key pair that fails {@link checkDeviceKeys} —
 * in particular an ML-KEM secret key failing the FIPS 203 §7.3 hash check.
 * @param document the JSON text from the store
 * @param expected the (app, identity) being loaded
 * @throws NoxyError `CRYPTO` for a refused key pair, `INVALID_ARGUMENT` for a malformed document
 */
export function decodeStoredDevice(document: string, expected: StoreKey): StoredDevice {
  const where = `stored device keys for app "${expected.appId}", ${expected.identityType} identity`;
  const bad = (why: string) => new NoxyError('INVALID_ARGUMENT', `${where}: ${why}`, { field: 'keyStore' });
  let doc: unknown;
  try {
    doc = JSON.parse(document);
  } catch {
    throw bad('the document is not JSON');
  }
  if (typeof doc !== 'object' || doc === null || (doc as { format?: unknown }).format !== FORMAT)
    throw bad(`not a ${FORMAT} document`);
  const d = doc as Record<string, unknown>;
  const str = (name: string): string => {
    const v = d[name];
    if (typeof v !== 'string') throw bad(`"${name}" is missing`);
    return v;
  };
  const bytes = (group: string, name: string): Uint8Array => {
    const g = d[group];
    const v = typeof g === 'object' && g !== null ? (g as Record<string, unknown>)[name] : undefined;
    if (typeof v !== 'string') throw bad(`"${group}.${name}" is missing`);
    try {
      return fromBase64(v, `${group}.${name}`);
    } catch {
      throw bad(`"${group}.${name}" is not base64`);
    }
  };
  const identityType = str('identityType');
  if (!(IDENTITY_TYPES as readonly string[]).includes(identityType))
    throw bad('"identityType" is not an identity type');
  if (
    str('appId') !== expected.appId ||
    identityType !== expected.identityType ||
    str('identityId') !== expected.identityId
  ) {
    throw bad('the document belongs to another app or identity');
  }
  const createdAt = d.createdAt;
  if (typeof createdAt !== 'number' || !Number.isFinite(createdAt)) throw bad('"createdAt" is missing');
  const keys: DeviceKeys = {
    ed25519: { secretKey: bytes('ed25519', 'secretKey'), publicKey: bytes('ed25519', 'publicKey') },
    mlkem: { secretKey: bytes('mlkem', 'secretKey'), publicKey: bytes('mlkem', 'publicKey') },
  };
  checkDeviceKeys(keys, where);
  const sig = d.registrationSignature;
  if (sig !== null && sig !== undefined && typeof sig !== 'string') throw bad('"registrationSignature" is not base64');
  const record: StoredDevice = { ...expected, deviceType: str('deviceType'), keys, createdAt };
  if (typeof sig === 'string') record.registrationSignature = fromBase64(sig, 'registrationSignature');
  return record;
}

/** The map key of a (app, identity): fields joined by U+001F, which no field may contain. */
export function storeKeyId(key: StoreKey): string {
  return [key.appId, key.identityType, key.identityId].join('\u001f');
}

/**
 * A key store in memory (tests, short-lived devices, or a browser page that re-pairs on
 * reload). Documents are kept as text, so loads run the same checks as a file store.
 * @param initial optional documents to start with, keyed by {@link storeKeyId}
 */
export function createMemoryKeyStore(
  initial?: Map<string, string>,
): KeyStore & { readonly documents: Map<string, string> } {
  const documents = initial ?? new Map<string, string>();
  return {
    documents,
    read: async (key) => documents.get(storeKeyId(key)),
    write: async (key, document) => {
      documents.set(storeKeyId(key), document);
    },
    remove: async (key) => {
      documents.delete(storeKeyId(key));
    },
  };
}
