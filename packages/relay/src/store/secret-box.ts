/**
 * The store's at-rest key and the sealing of apps' signing secrets (docs/security.md).
 *
 * The relay must keep each app's signing secret itself, not a hash: it verifies HMAC
 * registration signatures with it (docs/protocol.md §5.6). So `relay.db` holds it sealed with
 * AES-256-GCM under a random 32-byte key kept in its own file, `relay.key` (mode 0600) in the
 * data folder, with the app id as associated data (a sealed secret copied to another app's row
 * does not open). A copy of `relay.db` alone (a backup, a support bundle) reveals no secret.
 *
 * The database remembers which key it was sealed under (`meta.key_check`, a sealed constant),
 * so a missing or different key file for an existing database is refused with a clear error
 * instead of silently starting over with a new key.
 * @module
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { NoxyError } from '@noxy-approval/core';

/** The key file name inside the data folder. */
export const KEY_FILE_NAME = 'relay.key';

const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** First byte of a sealed value: the format version (nonce ‖ ciphertext ‖ tag follow). */
const FORMAT_V1 = 1;
// What meta.key_check seals: opening it proves the key file is the database's own.
const KEY_CHECK_PLAIN = Buffer.from('noxy-relay relay.key check v1');
const KEY_CHECK_AAD = 'meta.key_check';

/** Seals and opens small secrets with the store's key. */
export class SecretBox {
  readonly #key: Buffer;

  /** @param key 32 random bytes */
  constructor(key: Uint8Array) {
    if (key.length !== KEY_BYTES) throw new Error(`store key must be ${KEY_BYTES} bytes, got ${key.length}`);
    this.#key = Buffer.from(key);
  }

  /** A box with a fresh random key (in-memory stores). */
  static random(): SecretBox {
    return new SecretBox(randomBytes(KEY_BYTES));
  }

  /**
   * Seals `plain` bound to `aad` (e.g. the app id).
   * @returns version byte ‖ 12-byte nonce ‖ ciphertext ‖ 16-byte tag
   */
  seal(plain: Uint8Array, aad: string): Buffer {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, nonce);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([Buffer.of(FORMAT_V1), nonce, body, cipher.getAuthTag()]);
  }

  /**
   * Opens what {@link seal} made with the same key and `aad`.
   * @returns the plaintext, or `undefined` when the key, the aad or the bytes differ
   */
  open(sealed: Uint8Array, aad: string): Buffer | undefined {
    if (sealed.length < 1 + NONCE_BYTES + TAG_BYTES || sealed[0] !== FORMAT_V1) return undefined;
    const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.length);
    const nonce = buf.subarray(1, 1 + NONCE_BYTES);
    const tag = buf.subarray(buf.length - TAG_BYTES);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, nonce);
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(buf.subarray(1 + NONCE_BYTES, buf.length - TAG_BYTES)), decipher.final()]);
    } catch {
      return undefined;
    }
  }

  /** The value kept in `meta.key_check`. */
  keyCheck(): Buffer {
    return this.seal(KEY_CHECK_PLAIN, KEY_CHECK_AAD);
  }

  /** True when `check` (from `meta.key_check`) was sealed under this key. */
  matches(check: Uint8Array): boolean {
    const plain = this.open(check, KEY_CHECK_AAD);
    return plain?.equals(KEY_CHECK_PLAIN) === true;
  }
}

/** The error for a key file that does not belong to the database, naming both files and the fix. */
export function keyFileError(dir: string, what: 'missing' | 'wrong' | 'malformed'): NoxyError {
  const keyPath = join(dir, KEY_FILE_NAME);
  const dbPath = join(dir, 'relay.db');
  const why = {
    missing: `is missing, but ${dbPath} holds signing secrets sealed under it`,
    wrong: `is not the key ${dbPath} was sealed under`,
    malformed: `is not a relay key (${KEY_BYTES * 2} hex characters)`,
  }[what];
  return new NoxyError(
    'CRYPTO',
    `${keyPath} ${why}: restore relay.key from the backup of this data folder (it must be kept together with ` +
      `relay.db). Without it the apps' signing secrets cannot be read: start over with a new --data folder and ` +
      '`noxy-relay app create`.',
    { field: 'relay.key' },
  );
}

/**
 * Reads `<dir>/relay.key`, or creates it (mode 0600, 32 random bytes as hex) when it does not
 * exist and `mayCreate`. Creation is atomic (a temporary file linked into place), so a CLI
 * command and `start` opening a new folder at once end up with the same key.
 * @param dir the data folder (exists, mode 0700)
 * @param mayCreate false when the database already depends on a key
 * @throws NoxyError CRYPTO when the file is missing and may not be created, or malformed
 */
export function loadOrCreateKey(dir: string, mayCreate: boolean): SecretBox {
  const path = join(dir, KEY_FILE_NAME);
  const read = (): SecretBox | undefined => {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const hex = text.trim();
    if (!/^[0-9a-f]{64}$/i.test(hex)) throw keyFileError(dir, 'malformed');
    return new SecretBox(Buffer.from(hex, 'hex'));
  };
  const existing = read();
  if (existing) return existing;
  if (!mayCreate) throw keyFileError(dir, 'missing');
  const key = randomBytes(KEY_BYTES);
  const tmp = join(dir, `.${KEY_FILE_NAME}.${process.pid}.${randomBytes(4).toString('hex')}`);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, `${key.toString('hex')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(tmp);
  }
  // Another process may have won the race: everyone uses the file that is in place.
  const placed = read();
  if (!placed) throw keyFileError(dir, 'missing');
  return placed;
}
