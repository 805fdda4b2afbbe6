/**
 * The Node key store: one JSON file per (app, identity) in a folder. The folder is kept at
 * mode 0700 and every file at 0600, written atomically (temp file + rename) so a crash never
 * leaves half a key. A file readable by group or others is refused on load (like ssh does),
 * because its secret keys may already have leaked. Node only.
 * @module
 */
import { chmod, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { NoxyError } from '@noxy-approval/core';
import { randomUuid } from './bytes.js';
import { storeKeyId, type KeyStore, type StoreKey } from './key-store.js';

// POSIX permission bits are meaningless on Windows; checks that rely on them are skipped there.
const POSIX = process.platform !== 'win32';

/**
 * The file name of a (app, identity): a hash, so no identity string (`../x`, `a/b`, very long
 * ids) can escape the folder or clash with another after case folding by the file system.
 */
export function keyFileName(key: StoreKey): string {
  return `device-${bytesToHex(sha256(utf8ToBytes(storeKeyId(key)))).slice(0, 32)}.json`;
}

async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (!POSIX) return;
  const s = await stat(dir);
  if (!s.isDirectory())
    throw new NoxyError('INVALID_ARGUMENT', `key store path ${dir} is not a folder`, { field: 'dir' });
  // The folder holds nothing but key files, so tightening an existing one is safe.
  if ((s.mode & 0o077) !== 0) await chmod(dir, 0o700);
}

/**
 * Creates a file key store in `dir` (created with mode 0700 when missing).
 * @param dir the folder, e.g. `~/.noxy-device/keys`
 * @example
 * const keyStore = createFileKeyStore(join(homedir(), '.noxy-device', 'keys'));
 */
export function createFileKeyStore(dir: string): KeyStore & { readonly dir: string; pathOf(key: StoreKey): string } {
  if (typeof dir !== 'string' || dir.length === 0) {
    throw new NoxyError('INVALID_ARGUMENT', '"dir" expected a folder path', { field: 'dir' });
  }
  const pathOf = (key: StoreKey) => join(dir, keyFileName(key));
  return {
    dir,
    pathOf,
    async read(key) {
      const path = pathOf(key);
      let mode: number;
      try {
        mode = (await stat(path)).mode;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw e;
      }
      if (POSIX && (mode & 0o077) !== 0) {
        throw new NoxyError(
          'CRYPTO',
          `key file ${path} is readable by other users (mode ${(mode & 0o777).toString(8)}); ` +
            'refusing to use it — check who read it, then chmod 600 it',
        );
      }
      return readFile(path, 'utf8');
    },
    async write(key, document) {
      await ensurePrivateDir(dir);
      const path = pathOf(key);
      const tmp = `${path}.${randomUuid()}.tmp`;
      // Created 0600 from the start (no window where the secret is world-readable), flushed
      // to disk before the rename so the rename never exposes an empty file after a crash.
      const handle = await open(tmp, 'wx', 0o600);
      try {
        await handle.writeFile(document, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      try {
        if (POSIX) await chmod(tmp, 0o600); // umask cannot widen, but be explicit
        await rename(tmp, path);
      } catch (e) {
        await rm(tmp, { force: true });
        throw e;
      }
    },
    async remove(key) {
      await rm(pathOf(key), { force: true });
    },
  };
}
