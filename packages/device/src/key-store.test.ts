import { chmod, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKemBackend, NoxyError } from '@noxy-approval/core/portable';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fromBase64, toBase64 } from './bytes.js';
import { createFileKeyStore } from './file-key-store.js';
import {
  createMemoryKeyStore,
  decodeStoredDevice,
  encodeStoredDevice,
  type StoredDevice,
  type StoreKey,
} from './key-store.js';
import { generateDeviceKeys } from './keys.js';
import { createNoxyDevice } from './node-device.js';
import type { KemBackend } from '@noxy-approval/core/portable';

const key: StoreKey = { appId: 'app_1', identityType: 'email', identityId: 'alice@example.com' };
let kem: KemBackend;
let record: StoredDevice;

beforeAll(async () => {
  kem = await loadKemBackend('mlkem');
  record = {
    ...key,
    deviceType: 'desktop',
    keys: generateDeviceKeys(kem),
    createdAt: 1_700_000_000_000,
    registrationSignature: new Uint8Array(32).fill(7),
  };
});

/** Re-encodes a stored document after changing one byte of a base64 field. */
function tamper(doc: string, group: 'ed25519' | 'mlkem', name: 'secretKey' | 'publicKey', index: number): string {
  const d = JSON.parse(doc);
  const bytes = fromBase64(d[group][name], 'x');
  bytes[index] = bytes[index]! ^ 0x01;
  d[group][name] = toBase64(bytes);
  return JSON.stringify(d);
}

describe('stored device document', () => {
  it('round-trips keys, signature and metadata', () => {
    const back = decodeStoredDevice(encodeStoredDevice(record), key);
    expect(back.keys.mlkem.secretKey).toEqual(record.keys.mlkem.secretKey);
    expect(back.keys.ed25519.publicKey).toEqual(record.keys.ed25519.publicKey);
    expect(back.registrationSignature).toEqual(record.registrationSignature);
    expect(back.deviceType).toBe('desktop');
    expect(back.createdAt).toBe(record.createdAt);
  });

  it('refuses an ML-KEM secret key whose embedded public key hash does not match (FIPS 203 §7.3)', () => {
    // Byte 1152 + 1184 + 5 lies inside H(ek), the hash the check recomputes.
    const doc = tamper(encodeStoredDevice(record), 'mlkem', 'secretKey', 1152 + 1184 + 5);
    expect(() => decodeStoredDevice(doc, key)).toThrowError(/refused.*hash check/);
    try {
      decodeStoredDevice(doc, key);
    } catch (e) {
      expect(NoxyError.isInstance(e) && e.code).toBe('CRYPTO');
    }
  });

  it('refuses an ML-KEM secret key whose embedded public key was altered', () => {
    const doc = tamper(encodeStoredDevice(record), 'mlkem', 'secretKey', 1152 + 10);
    expect(() => decodeStoredDevice(doc, key)).toThrowError(/hash check/);
  });

  it('refuses a stored ML-KEM public key that differs from the one in the secret key', () => {
    const doc = tamper(encodeStoredDevice(record), 'mlkem', 'publicKey', 3);
    expect(() => decodeStoredDevice(doc, key)).toThrowError(/ML-KEM-768/);
  });

  it('refuses an Ed25519 public key that does not match its secret key', () => {
    const doc = tamper(encodeStoredDevice(record), 'ed25519', 'publicKey', 0);
    expect(() => decodeStoredDevice(doc, key)).toThrowError(/Ed25519 public key does not match/);
  });

  it('refuses a document of another identity, or not ours', () => {
    const doc = encodeStoredDevice(record);
    expect(() => decodeStoredDevice(doc, { ...key, identityId: 'bob@example.com' })).toThrowError(
      /another app or identity/,
    );
    expect(() => decodeStoredDevice('{"format":"x"}', key)).toThrowError(/not a noxy-device-keys\/v1 document/);
    expect(() => decodeStoredDevice('nope', key)).toThrowError(/not JSON/);
  });

  it('error messages never contain key material', () => {
    const doc = tamper(encodeStoredDevice(record), 'mlkem', 'secretKey', 1152 + 1184 + 5);
    const secretB64 = JSON.parse(doc).mlkem.secretKey as string;
    try {
      decodeStoredDevice(doc, key);
      expect.unreachable();
    } catch (e) {
      expect(String((e as Error).message)).not.toContain(secretB64.slice(0, 24));
    }
  });
});

describe('memory key store', () => {
  it('stores documents per (app, identity)', async () => {
    const store = createMemoryKeyStore();
    await store.write(key, 'a');
    await store.write({ ...key, identityType: 'user_id' }, 'b');
    expect(await store.read(key)).toBe('a');
    expect(await store.read({ ...key, identityType: 'user_id' })).toBe('b');
    await store.remove(key);
    expect(await store.read(key)).toBeUndefined();
  });
});

describe('file key store', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'noxy-keys-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes one 0600 file per (app, identity) in a 0700 folder', async () => {
    const store = createFileKeyStore(join(dir, 'keys'));
    await store.write(key, encodeStoredDevice(record));
    await store.write({ ...key, identityId: '../../etc/passwd' }, encodeStoredDevice(record));
    const files = await readdir(join(dir, 'keys'));
    expect(files).toHaveLength(2);
    expect(files.every((f) => /^device-[0-9a-f]{32}\.json$/.test(f))).toBe(true);
    expect((await stat(join(dir, 'keys'))).mode & 0o777).toBe(0o700);
    expect((await stat(store.pathOf(key))).mode & 0o777).toBe(0o600);
    expect(decodeStoredDevice((await store.read(key))!, key).keys.mlkem.publicKey).toEqual(record.keys.mlkem.publicKey);
  });

  it('tightens a folder that others could read', async () => {
    const keysDir = join(dir, 'keys');
    const store = createFileKeyStore(keysDir);
    await store.write(key, 'x');
    await chmod(keysDir, 0o755);
    await store.write(key, 'y');
    expect((await stat(keysDir)).mode & 0o777).toBe(0o700);
  });

  it('refuses a key file readable by group or others', async () => {
    const store = createFileKeyStore(dir);
    await store.write(key, encodeStoredDevice(record));
    await chmod(store.pathOf(key), 0o644);
    await expect(store.read(key)).rejects.toThrowError(/readable by other users/);
  });

  it('returns undefined for a missing file and removes quietly', async () => {
    const store = createFileKeyStore(dir);
    expect(await store.read(key)).toBeUndefined();
    await store.remove(key);
  });

  it('createNoxyDevice creates keys once, reloads them, and refuses a tampered file', async () => {
    const store = createFileKeyStore(join(dir, 'keys'));
    const opts = {
      relayUrl: 'http://127.0.0.1:1',
      appId: 'app_1',
      identity: 'alice@example.com',
      keyStore: store,
      signingSecret: 's3cret',
      kem: 'mlkem',
    } as const;
    const a = await createNoxyDevice(opts);
    const b = await createNoxyDevice(opts);
    expect(b.publicKeys.pqPublicKey).toEqual(a.publicKeys.pqPublicKey);
    a.close();
    b.close();
    const path = store.pathOf(key);
    const doc = await readFile(path, 'utf8');
    expect(doc).not.toContain('s3cret');
    await writeFile(path, tamper(doc, 'mlkem', 'secretKey', 1152 + 1184), { mode: 0o600 });
    await expect(createNoxyDevice(opts)).rejects.toMatchObject({
      code: 'CRYPTO',
      message: expect.stringMatching(/refused/),
    });
  });
});
