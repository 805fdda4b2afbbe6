import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createFileDeviceKeyStore, createMemoryDeviceKeyStore } from './device-keys.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tempFile = () => {
  const d = mkdtempSync(join(tmpdir(), 'noxy-known-devices-'));
  dirs.push(d);
  return join(d, 'sub', 'known_devices');
};
const key = (n: number) => new Uint8Array(32).fill(n);

describe('pinned device keys', () => {
  it('memory store: configured pins are checked and copied; pins are per identity and device', async () => {
    const given = key(1);
    const store = createMemoryDeviceKeyStore([{ identityId: 'a@b.c', deviceId: 'dev-1', publicKey: given }]);
    given.fill(9); // the caller's array changing later changes no pin
    expect(await store.get('a@b.c', 'dev-1')).toEqual(key(1));
    expect(await store.get('x@b.c', 'dev-1')).toBeUndefined();
    expect(() => createMemoryDeviceKeyStore([{ identityId: '', deviceId: 'd', publicKey: key(1) }])).toThrow(
      /"deviceKeys\[0\]\.identityId" expected a non-empty string/,
    );
    expect(() => store.set({ identityId: 'a', deviceId: 'd', publicKey: new Uint8Array(3) })).toThrow(/32 bytes/);
  });

  it('file store: pins survive a reopen, any identity text round-trips, the file is owner-only', async () => {
    const path = tempFile();
    const store = createFileDeviceKeyStore(path);
    expect(await store.get('a@b.c', 'dev-1')).toBeUndefined();
    await store.set({ identityId: 'user with "quotes" and spaces', deviceId: 'dev-1', publicKey: key(2) });
    await store.set({ identityId: 'a@b.c', deviceId: 'dev-2', publicKey: key(3) });
    await store.set({ identityId: 'a@b.c', deviceId: 'dev-2', publicKey: key(4) }); // a verified rotation
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const again = createFileDeviceKeyStore(path);
    expect(await again.get('user with "quotes" and spaces', 'dev-1')).toEqual(key(2));
    expect(await again.get('a@b.c', 'dev-2')).toEqual(key(4));
    expect(
      readFileSync(path, 'utf8')
        .split('\n')
        .filter((l) => l && !l.startsWith('#')),
    ).toHaveLength(2);
  });

  it('file store: a malformed line is refused, naming the file and line', async () => {
    const path = tempFile();
    await createFileDeviceKeyStore(path).set({ identityId: 'a', deviceId: 'd', publicKey: key(5) });
    writeFileSync(path, `${readFileSync(path, 'utf8')}"b" dev-9 not-base64\n`);
    expect(() => createFileDeviceKeyStore(path)).toThrow(/line 3: expected <identity as a JSON string>/);
  });
});
