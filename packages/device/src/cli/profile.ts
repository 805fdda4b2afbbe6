/**
 * The CLI's data folder: `device.json` (which relay, app and identity this terminal approves
 * for — no secrets) and `keys/` (the file key store). Folder 0700, files 0600.
 * @module
 */
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { IdentityType } from '@noxy-approval/core';
import { createFileKeyStore } from '../file-key-store.js';
import type { KeyStore } from '../key-store.js';

/** What `noxy-device pair` remembers for `listen`. */
export interface Profile {
  relayUrl: string;
  appId: string;
  identity: { type: IdentityType; id: string };
  transport: 'grpc' | 'websocket';
  deviceType: string;
}

/** The data folder: `--data-dir`, else `$NOXY_DEVICE_DIR`, else `~/.noxy-device`. */
export function dataDirOf(flag: string | undefined, env: Record<string, string | undefined>): string {
  return resolve(flag ?? env.NOXY_DEVICE_DIR ?? join(homedir(), '.noxy-device'));
}

/** The key store inside a data folder. */
export function keyStoreOf(dataDir: string): KeyStore {
  return createFileKeyStore(join(dataDir, 'keys'));
}

const PROFILE = 'device.json';

/** Writes the profile atomically (0600 in a 0700 folder). */
export async function saveProfile(dataDir: string, profile: Profile): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await chmod(dataDir, 0o700);
  const path = join(dataDir, PROFILE);
  const tmp = `${path}.tmp`;
  await writeFile(tmp, `${JSON.stringify(profile, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, path);
}

/** Reads the profile, or `undefined` when this folder was never paired. */
export async function loadProfile(dataDir: string): Promise<Profile | undefined> {
  let text: string;
  try {
    text = await readFile(join(dataDir, PROFILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const p = JSON.parse(text) as Partial<Profile>;
  if (
    typeof p.relayUrl !== 'string' ||
    typeof p.appId !== 'string' ||
    typeof p.identity?.id !== 'string' ||
    typeof p.identity.type !== 'string'
  ) {
    throw new Error(`${join(dataDir, PROFILE)} is not a noxy-device profile; pair again`);
  }
  return {
    relayUrl: p.relayUrl,
    appId: p.appId,
    identity: p.identity,
    transport: p.transport === 'websocket' ? 'websocket' : 'grpc',
    deviceType: p.deviceType ?? 'desktop',
  };
}
