import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { DB_FILE_NAME, SCHEMA_VERSION } from './db.js';
import { RelayStore } from './index.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

// The two tables schema v2 extends, exactly as schema v1 made them.
const V1 = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
INSERT INTO meta VALUES ('schema_version', '1');
CREATE TABLE devices (
  device_id TEXT PRIMARY KEY, app_id TEXT NOT NULL, identity_type TEXT NOT NULL, identity_id TEXT NOT NULL,
  public_key BLOB NOT NULL, pq_public_key BLOB NOT NULL, device_type TEXT NOT NULL,
  registration_hash BLOB NOT NULL, registered_via TEXT NOT NULL, registered_at INTEGER NOT NULL,
  rotated_at INTEGER, revoked_at INTEGER
);
CREATE TABLE outcomes (
  app_id TEXT NOT NULL, decision_id TEXT NOT NULL, identity_id TEXT NOT NULL, outcome TEXT NOT NULL,
  device_id TEXT, decided_at INTEGER NOT NULL, received_at INTEGER,
  PRIMARY KEY (app_id, decision_id, identity_id)
) WITHOUT ROWID;
INSERT INTO devices VALUES ('dev-1', 'app-1', 'email', 'a@b.c', x'${'11'.repeat(32)}', x'22', 'desktop',
  x'33', 'secret', 1000, NULL, NULL);
INSERT INTO outcomes VALUES ('app-1', 'd-old', 'a@b.c', 'APPROVED', 'dev-1', 2000, NULL);
`;

describe('schema migration v1 → v2 (device proofs and signed outcomes)', () => {
  it('adds the new columns to a v1 database, keeping its rows, and records the version', () => {
    const dir = mkdtempSync(join(tmpdir(), 'noxy-relay-migrate-'));
    dirs.push(dir);
    const v1 = new Database(join(dir, DB_FILE_NAME));
    v1.exec(V1);
    v1.close();

    const store = RelayStore.open(dir);
    try {
      const dev = store.devices.get('dev-1');
      expect(dev).toMatchObject({ deviceId: 'dev-1', identityId: 'a@b.c', deviceProof: false });
      expect(store.devices.rotations('dev-1')).toEqual([]);
      store.devices.markProof('dev-1');
      expect(store.devices.get('dev-1')?.deviceProof).toBe(true);
      const key = { appId: 'app-1', identityId: 'a@b.c' };
      expect(store.decisions.getOutcome({ ...key, decisionId: 'd-old' })).toMatchObject({
        outcome: 'APPROVED',
        signed: undefined,
      });
      const signed = { signature: Buffer.alloc(64, 5), decidedAt: 3000, actionHash: 'sha256:ab' };
      store.decisions.finalize({
        ...key,
        decisionId: 'd-new',
        outcome: 'APPROVED',
        deviceId: 'dev-1',
        decidedAt: 3000,
        receivedAt: undefined,
        signed,
      });
      expect(store.decisions.getOutcome({ ...key, decisionId: 'd-new' })?.signed).toEqual(signed);
    } finally {
      store.close();
    }
    const check = new Database(join(dir, DB_FILE_NAME), { readonly: true });
    const version = check.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string };
    check.close();
    expect(Number(version.value)).toBe(SCHEMA_VERSION);
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(2);
    // Opening again (already v2) changes nothing.
    RelayStore.open(dir).close();
  });
});
