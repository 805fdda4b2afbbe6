/**
 * The web page's storage in IndexedDB: the device {@link KeyStore} (one record per app and
 * identity, the JSON document of `encodeStoredDevice`) and the list of pairings this browser
 * holds (which app, identity and relay to reconnect to after a reload).
 *
 * The device library needs the raw key bytes (ML-KEM-768 and Ed25519 run in JavaScript, not in
 * WebCrypto), so the key pair itself cannot be a non-extractable `CryptoKey`. Where WebCrypto
 * exists (a secure context: https or localhost), the document is sealed with AES-256-GCM under a
 * NON-EXTRACTABLE `CryptoKey` that is itself kept in IndexedDB: script on this origin can still
 * use it, but the key material never appears in the database files or in a copied profile. On
 * plain http (no `crypto.subtle`) the document is stored as it is.
 * @module
 */
import { NoxyError, type IdentityType } from '@noxy-approval/core/portable';
import { type KeyStore, type StoreKey, storeKeyId } from '../browser.js';

const DB_NAME = 'noxy-approval-page';
const DB_VERSION = 1;
const DEVICES = 'devices';
const PAIRINGS = 'pairings';
const WRAP_KEYS = 'wrap-keys';

/** A pairing this browser holds: enough to reconnect after a reload. */
export interface PairingProfile {
  appId: string;
  identityType: IdentityType;
  identityId: string;
  /** ms since epoch. */
  pairedAt: number;
}

type DeviceRow =
  | { id: string; document: string }
  | { id: string; sealed: { iv: Uint8Array<ArrayBuffer>; ciphertext: ArrayBuffer } };

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error ?? new Error('IndexedDB request failed'));
  });
}

function storageError(what: string, cause: unknown): NoxyError {
  return new NoxyError('INVALID_ARGUMENT', `browser storage (IndexedDB) ${what} failed`, {
    cause,
    field: 'keyStore',
  });
}

/** Opens (creating on first use) the page's database. */
export function openPageDb(name = DB_NAME): Promise<IDBDatabase> {
  if (typeof indexedDB === 'undefined') return Promise.reject(storageError('is not available:', undefined));
  const open = indexedDB.open(name, DB_VERSION);
  open.onupgradeneeded = () => {
    const db = open.result;
    for (const store of [DEVICES, PAIRINGS, WRAP_KEYS])
      if (!db.objectStoreNames.contains(store)) db.createObjectStore(store, { keyPath: 'id' });
  };
  return request(open).catch((cause: unknown) => {
    throw storageError('open', cause);
  });
}

function tx(db: IDBDatabase, store: string, mode: IDBTransactionMode): IDBObjectStore {
  return db.transaction(store, mode).objectStore(store);
}

const subtle = (): SubtleCrypto | undefined => (globalThis.crypto as Crypto | undefined)?.subtle ?? undefined;

/** The non-extractable wrapping key, created on first use (only where WebCrypto exists). */
async function wrapKey(db: IDBDatabase, create: boolean): Promise<CryptoKey | undefined> {
  const s = subtle();
  if (!s) return undefined;
  const row = (await request(tx(db, WRAP_KEYS, 'readonly').get('default'))) as { key: CryptoKey } | undefined;
  if (row) return row.key;
  if (!create) return undefined;
  const key = await s.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
  // add(): when two tabs race, the second add fails and both use the stored key.
  try {
    await request(tx(db, WRAP_KEYS, 'readwrite').add({ id: 'default', key }));
    return key;
  } catch {
    const again = (await request(tx(db, WRAP_KEYS, 'readonly').get('default'))) as { key: CryptoKey } | undefined;
    return again?.key;
  }
}

/**
 * A device {@link KeyStore} over IndexedDB (see the module comment for what is sealed how).
 * @param db from {@link openPageDb}
 */
export function createIndexedDbKeyStore(db: IDBDatabase): KeyStore {
  return {
    async read(key: StoreKey) {
      let row: DeviceRow | undefined;
      try {
        row = (await request(tx(db, DEVICES, 'readonly').get(storeKeyId(key)))) as DeviceRow | undefined;
      } catch (cause) {
        throw storageError('read', cause);
      }
      if (!row) return undefined;
      if ('document' in row) return row.document;
      const k = await wrapKey(db, false);
      const s = subtle();
      if (!k || !s) throw storageError('read (sealed keys need WebCrypto, which this page does not have)', undefined);
      try {
        const plain = await s.decrypt({ name: 'AES-GCM', iv: row.sealed.iv }, k, row.sealed.ciphertext);
        return new TextDecoder().decode(plain);
      } catch (cause) {
        throw storageError('read (the sealed keys could not be opened)', cause);
      }
    },
    async write(key: StoreKey, document: string) {
      const id = storeKeyId(key);
      const k = await wrapKey(db, true);
      const s = subtle();
      let row: DeviceRow;
      if (k && s) {
        const iv = crypto.getRandomValues(new Uint8Array(12));
        const ciphertext = await s.encrypt({ name: 'AES-GCM', iv }, k, new TextEncoder().encode(document));
        row = { id, sealed: { iv, ciphertext } };
      } else row = { id, document };
      try {
        await request(tx(db, DEVICES, 'readwrite').put(row));
      } catch (cause) {
        throw storageError('write', cause);
      }
    },
    async remove(key: StoreKey) {
      try {
        await request(tx(db, DEVICES, 'readwrite').delete(storeKeyId(key)));
      } catch (cause) {
        throw storageError('delete', cause);
      }
    },
  };
}

/** The pairings this browser holds, oldest first. */
export async function listPairings(db: IDBDatabase): Promise<PairingProfile[]> {
  const rows = (await request(tx(db, PAIRINGS, 'readonly').getAll())) as Array<PairingProfile & { id: string }>;
  return rows
    .map(({ appId, identityType, identityId, pairedAt }) => ({ appId, identityType, identityId, pairedAt }))
    .sort((a, b) => a.pairedAt - b.pairedAt);
}

/** Records a pairing (replacing one for the same app and identity). */
export async function savePairing(db: IDBDatabase, p: PairingProfile): Promise<void> {
  await request(tx(db, PAIRINGS, 'readwrite').put({ id: storeKeyId(p), ...p }));
}
