/**
 * Pinned device keys (docs/security.md §10): the Ed25519 key of each device that
 * signs approvals, per identity, like SSH `known_hosts`. A key is pinned on first sight (trust
 * on first use: from GetIdentityDevices, the first time the agent meets the device) or given in
 * configuration; after that the relay can no longer swap it, and a new key is accepted only when
 * the pinned key announced it (a signed key rotation).
 *
 * Two stores: {@link createMemoryDeviceKeyStore} (the default; pins last as long as the process)
 * and {@link createFileDeviceKeyStore} (a `known_devices` text file, one `identity device key`
 * line each, kept across restarts).
 * @module
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { invalidArgument, NoxyError } from './errors.js';

/** One pinned key. */
export interface PinnedDeviceKey {
  /** The identity id the device answers for, byte-exact. */
  identityId: string;
  deviceId: string;
  /** Ed25519 public key, 32 bytes. */
  publicKey: Uint8Array;
}

/** Where pinned keys live. Implementations must not lose a pin they acknowledged. */
export interface DeviceKeyStore {
  /** The pinned key of a device of an identity, if any. */
  get(identityId: string, deviceId: string): Promise<Uint8Array | undefined> | Uint8Array | undefined;
  /** Pins (or, after a verified rotation, re-pins) a key. */
  set(pin: PinnedDeviceKey): Promise<void> | void;
}

const KEY_BYTES = 32;
const mapKey = (identityId: string, deviceId: string) => JSON.stringify([identityId, deviceId]);

function checkPin(pin: PinnedDeviceKey, field: string): PinnedDeviceKey {
  if (typeof pin !== 'object' || pin === null)
    throw invalidArgument(field, 'an object { identityId, deviceId, publicKey }');
  if (typeof pin.identityId !== 'string' || pin.identityId === '')
    throw invalidArgument(`${field}.identityId`, 'a non-empty string');
  if (typeof pin.deviceId !== 'string' || pin.deviceId === '' || /\s/.test(pin.deviceId))
    throw invalidArgument(`${field}.deviceId`, 'a non-empty device id without spaces');
  if (!(pin.publicKey instanceof Uint8Array) || pin.publicKey.length !== KEY_BYTES)
    throw invalidArgument(`${field}.publicKey`, `${KEY_BYTES} bytes (an Ed25519 public key)`);
  return { identityId: pin.identityId, deviceId: pin.deviceId, publicKey: new Uint8Array(pin.publicKey) };
}

/**
 * An in-memory pin store.
 * @param pins keys given in configuration (checked: 32-byte Ed25519 keys, non-empty ids)
 * @throws NoxyError `INVALID_ARGUMENT` naming the bad entry
 */
export function createMemoryDeviceKeyStore(pins: readonly PinnedDeviceKey[] = []): DeviceKeyStore {
  const map = new Map<string, Uint8Array>();
  pins.forEach((p, i) => {
    const pin = checkPin(p, `deviceKeys[${i}]`);
    map.set(mapKey(pin.identityId, pin.deviceId), pin.publicKey);
  });
  return {
    get: (identityId, deviceId) => map.get(mapKey(identityId, deviceId)),
    set: (p) => {
      const pin = checkPin(p, 'pin');
      map.set(mapKey(pin.identityId, pin.deviceId), pin.publicKey);
    },
  };
}

// Line format: <identity as JSON string> <device id> <base64 key>; JSON keeps any identity
// (spaces included) on one line.
function parseLine(line: string, n: number, path: string): PinnedDeviceKey {
  const bad = () =>
    new NoxyError(
      'INVALID_ARGUMENT',
      `"${path}" line ${n}: expected <identity as a JSON string> <device id> <base64 Ed25519 key>; ` +
        'fix or delete the line',
      { field: 'deviceKeyFile' },
    );
  const m = /^("(?:[^"\\]|\\.)*") (\S+) ([A-Za-z0-9+/]{43}=)$/.exec(line);
  if (!m) throw bad();
  let identityId: unknown;
  try {
    identityId = JSON.parse(m[1]!);
  } catch {
    throw bad();
  }
  const publicKey = new Uint8Array(Buffer.from(m[3]!, 'base64'));
  if (typeof identityId !== 'string' || publicKey.length !== KEY_BYTES) throw bad();
  return { identityId, deviceId: m[2]!, publicKey };
}

/**
 * A pin store kept in a text file (created with mode 0600 on the first pin), read once when
 * created; each new pin rewrites the file atomically (write + rename).
 * @param path the file, e.g. `~/.noxy/known_devices`
 * @throws NoxyError `INVALID_ARGUMENT` when the file exists and a line is malformed (naming it)
 */
export function createFileDeviceKeyStore(path: string): DeviceKeyStore {
  if (typeof path !== 'string' || path === '') throw invalidArgument('deviceKeyFile', 'a file path');
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const memory = new Map<string, PinnedDeviceKey>();
  text
    .split('\n')
    .map((l) => l.trim())
    .forEach((line, i) => {
      if (line === '' || line.startsWith('#')) return;
      const pin = parseLine(line, i + 1, path);
      memory.set(mapKey(pin.identityId, pin.deviceId), pin);
    });
  const save = () => {
    const lines = [...memory.values()].map(
      (p) => `${JSON.stringify(p.identityId)} ${p.deviceId} ${Buffer.from(p.publicKey).toString('base64')}`,
    );
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, `# noxy-approval pinned device keys (docs/security.md)\n${lines.join('\n')}\n`, {
      mode: 0o600,
    });
    renameSync(tmp, path);
  };
  return {
    get: (identityId, deviceId) => memory.get(mapKey(identityId, deviceId))?.publicKey,
    set: (p) => {
      const pin = checkPin(p, 'pin');
      memory.set(mapKey(pin.identityId, pin.deviceId), pin);
      save();
    },
  };
}
