/**
 * Opening the relay database: file location, durability pragmas and schema.
 *
 * Durability (docs/protocol.md §9.5): `journal_mode=WAL` + `synchronous=FULL` syncs the WAL on
 * every commit, so an answered request survives an application crash and a power loss (on
 * storage that honours flush). `:memory:` is for tests and benchmarks only.
 * @module
 */
import { chmodSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { keyFileError, loadOrCreateKey, SecretBox } from './secret-box.js';

/** A better-sqlite3 connection. */
export type Db = Database.Database;

/** The database file name inside the data folder. */
export const DB_FILE_NAME = 'relay.db';

/**
 * Version of the schema below, kept in `meta.schema_version`. v2: device proofs and signed
 * outcomes; v3: signing secrets sealed under `relay.key` (see secret-box.ts).
 */
export const SCHEMA_VERSION = 3;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS apps (
  app_id         TEXT PRIMARY KEY,
  name           TEXT NOT NULL,
  token_hash     BLOB NOT NULL UNIQUE,      -- SHA-256 of the app token; the token is never stored
  signing_secret BLOB NOT NULL,             -- HMAC key of registrations (docs/protocol.md §5.6), sealed (v3)
  quota_total    INTEGER NOT NULL,          -- decisions per calendar month (UTC)
  created_at     INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS quota_usage (
  app_id TEXT NOT NULL,
  period TEXT NOT NULL,                     -- 'YYYY-MM' (UTC) of the relay clock
  used   INTEGER NOT NULL,
  PRIMARY KEY (app_id, period)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS devices (
  device_id         TEXT PRIMARY KEY,
  app_id            TEXT NOT NULL,
  identity_type     TEXT NOT NULL,          -- wallet | email | phone | user_id
  identity_id       TEXT NOT NULL,          -- byte-exact, never normalised
  public_key        BLOB NOT NULL,          -- Ed25519, 32 bytes
  pq_public_key     BLOB NOT NULL,          -- ML-KEM-768, 1184 bytes
  device_type       TEXT NOT NULL,
  registration_hash BLOB NOT NULL,          -- SHA-256 of the accepted registration signature
  registered_via    TEXT NOT NULL,          -- 'secret' | 'pairing'
  registered_at     INTEGER NOT NULL,
  rotated_at        INTEGER,
  revoked_at        INTEGER,
  device_proof      INTEGER NOT NULL DEFAULT 0 -- 1 once registered with a proof: never again without (v2)
);
CREATE UNIQUE INDEX IF NOT EXISTS devices_by_key ON devices (app_id, public_key);
CREATE UNIQUE INDEX IF NOT EXISTS devices_by_pq_key ON devices (app_id, pq_public_key);
CREATE INDEX IF NOT EXISTS devices_by_identity ON devices (app_id, identity_id);

CREATE TABLE IF NOT EXISTS pairings (
  pairing_id    TEXT PRIMARY KEY,
  app_id        TEXT NOT NULL,
  identity_type TEXT NOT NULL,
  identity_id   TEXT NOT NULL,
  code          TEXT,                       -- cleared once used
  created_at    INTEGER NOT NULL,
  expires_at    INTEGER NOT NULL,
  used_at       INTEGER,
  used_by       TEXT
);
CREATE INDEX IF NOT EXISTS pairings_open ON pairings (app_id, identity_id) WHERE used_at IS NULL;

CREATE TABLE IF NOT EXISTS decisions (
  app_id        TEXT NOT NULL,
  decision_id   TEXT NOT NULL,
  identity_id   TEXT NOT NULL,
  identity_type TEXT NOT NULL,
  status        TEXT NOT NULL,              -- QUEUED DELIVERED ACKNOWLEDGED APPROVED REJECTED EXPIRED
  created_at    INTEGER NOT NULL,
  expires_at    INTEGER NOT NULL,
  PRIMARY KEY (app_id, decision_id, identity_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS decisions_open ON decisions (expires_at)
  WHERE status IN ('QUEUED', 'DELIVERED', 'ACKNOWLEDGED');

CREATE TABLE IF NOT EXISTS deliveries (
  seq          INTEGER PRIMARY KEY,         -- insertion order: devices drain oldest first
  app_id       TEXT NOT NULL,
  decision_id  TEXT NOT NULL,
  device_id    TEXT NOT NULL,
  identity_id  TEXT NOT NULL,
  request_id   TEXT NOT NULL,
  kyber_ct     BLOB NOT NULL,
  nonce        BLOB NOT NULL,
  ciphertext   BLOB NOT NULL,
  status       TEXT NOT NULL,               -- QUEUED DELIVERED ACKNOWLEDGED CANCELLED
  created_at   INTEGER NOT NULL,
  delivered_at INTEGER,
  acked_at     INTEGER,
  routed_at    INTEGER                      -- when the device learnt the decision was closed
);
CREATE UNIQUE INDEX IF NOT EXISTS deliveries_key ON deliveries (app_id, decision_id, device_id);
CREATE INDEX IF NOT EXISTS deliveries_open ON deliveries (device_id, seq)
  WHERE status <> 'CANCELLED' AND routed_at IS NULL;

CREATE TABLE IF NOT EXISTS outcomes (
  app_id      TEXT NOT NULL,
  decision_id TEXT NOT NULL,
  identity_id TEXT NOT NULL,
  outcome     TEXT NOT NULL,                -- APPROVED REJECTED EXPIRED; first write wins
  device_id   TEXT,                         -- NULL for EXPIRED
  decided_at  INTEGER NOT NULL,
  received_at INTEGER,
  device_signature   BLOB,                  -- the device's Ed25519 outcome signature (v2), verified by agents
  signed_decided_at  INTEGER,               -- decided-at as signed (device clock, v2)
  signed_action_hash TEXT,                  -- action_hash as signed (v2)
  PRIMARY KEY (app_id, decision_id, identity_id)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS device_rotations (  -- v2: announced key rotations, for pinned agents
  device_id         TEXT NOT NULL,
  seq               INTEGER NOT NULL,
  old_public_key    BLOB NOT NULL,
  new_public_key    BLOB NOT NULL,
  new_pq_public_key BLOB NOT NULL,
  rotated_at        INTEGER NOT NULL,         -- the signed timestamp
  signature         BLOB NOT NULL,            -- Ed25519 by old_public_key
  PRIMARY KEY (device_id, seq)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS route_requests (
  app_id      TEXT NOT NULL,
  request_id  TEXT NOT NULL,
  status      INTEGER NOT NULL,             -- agent.DeliveryStatus
  decision_id TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (app_id, request_id)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS audit_events (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  at          INTEGER NOT NULL,
  app_id      TEXT NOT NULL,
  decision_id TEXT,
  device_id   TEXT,
  event       TEXT NOT NULL,
  detail      TEXT
);
CREATE INDEX IF NOT EXISTS audit_by_decision ON audit_events (app_id, decision_id);
`;

// Columns added in schema v2 (issue 12: device proofs and signed outcomes), by table.
const V2_COLUMNS: Record<string, Record<string, string>> = {
  devices: { device_proof: 'INTEGER NOT NULL DEFAULT 0' },
  outcomes: { device_signature: 'BLOB', signed_decided_at: 'INTEGER', signed_action_hash: 'TEXT' },
};

// Adds the v2 columns to tables of a v1 database; a fresh database gets them from SCHEMA.
function migrateToV2(db: Db): void {
  for (const [table, columns] of Object.entries(V2_COLUMNS)) {
    const have = new Set((db.pragma(`table_info(${table})`) as { name: string }[]).map((c) => c.name));
    if (have.size === 0) continue;
    for (const [name, type] of Object.entries(columns)) {
      if (!have.has(name)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${name} ${type}`);
    }
  }
}

// Seals every signing secret still in clear (a v2 database) and records the key check, in one
// transaction with the version bump. Idempotent: only text rows are sealed, and an open that
// stops half-way leaves the database as it was. `secure_delete` zeroes the old cells, and the
// WAL is truncated after the checkpoint, so no clear copy stays behind in the files.
function migrateToV3(db: Db, box: SecretBox, hadCheck: boolean): number {
  const clear = db.prepare("SELECT app_id, signing_secret FROM apps WHERE typeof(signing_secret) = 'text'").all() as {
    app_id: string;
    signing_secret: string;
  }[];
  if (clear.length > 0) db.pragma('secure_delete = ON');
  const seal = db.prepare('UPDATE apps SET signing_secret = ? WHERE app_id = ?');
  for (const row of clear) seal.run(box.seal(Buffer.from(row.signing_secret, 'utf8'), row.app_id), row.app_id);
  if (!hadCheck) db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('key_check', box.keyCheck());
  return clear.length;
}

/** An opened database and the key its signing secrets are sealed under. */
export interface OpenedDatabase {
  db: Db;
  /** The database file, or `':memory:'`. */
  path: string;
  /** Seals and opens `apps.signing_secret` (the key of `relay.key`, or a random one in memory). */
  box: SecretBox;
}

/**
 * Opens (creating if needed) the relay database with the durability pragmas and schema, and
 * its key file `relay.key` (created with the database; required once the database exists).
 * @param dataDir a folder (created with mode 0700), or `':memory:'`
 * @returns the connection, the database file path (`':memory:'` in memory) and the key
 * @throws NoxyError CRYPTO when `relay.key` is missing, malformed or not the database's key
 */
export function openDatabase(dataDir: string): OpenedDatabase {
  const memory = dataDir === ':memory:';
  let path = ':memory:';
  let dir = '';
  if (!memory) {
    dir = resolve(dataDir);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    path = join(dir, DB_FILE_NAME);
  }
  const db = new Database(path);
  let box: SecretBox;
  try {
    if (!memory) {
      // Sealed signing secrets and open pairing codes live here: owner-only.
      chmodSync(path, 0o600);
      db.pragma('journal_mode = WAL');
    }
    db.pragma('synchronous = FULL');
    // The CLI's `app create` / `pair` may write while `start` runs: wait instead of failing.
    db.pragma('busy_timeout = 5000');
    let sealed = 0;
    box = SecretBox.random();
    db.transaction(() => {
      // A v1 database keeps its tables (CREATE … IF NOT EXISTS): add the v2 columns first.
      migrateToV2(db);
      db.exec(SCHEMA);
      const meta = db.prepare('SELECT value FROM meta WHERE key = ?');
      const row = meta.get('schema_version') as { value: string } | undefined;
      if (row && Number(row.value) > SCHEMA_VERSION) {
        throw new Error(
          `relay database schema ${row.value} is newer than this relay (${SCHEMA_VERSION}); upgrade noxy-relay`,
        );
      }
      const check = (meta.get('key_check') as { value: Uint8Array } | undefined)?.value;
      const sealedRows = db.prepare("SELECT count(*) FROM apps WHERE typeof(signing_secret) = 'blob'").pluck();
      if (!memory) {
        // A new key only for a database that depends on none yet; never a silent fresh start.
        box = loadOrCreateKey(dir, check === undefined && sealedRows.get() === 0);
        if (check !== undefined && !box.matches(check)) throw keyFileError(dir, 'wrong');
      }
      sealed = migrateToV3(db, box, check !== undefined);
      if (!row) db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('schema_version', String(SCHEMA_VERSION));
      else if (Number(row.value) < SCHEMA_VERSION)
        db.prepare('UPDATE meta SET value = ? WHERE key = ?').run(String(SCHEMA_VERSION), 'schema_version');
    }).immediate();
    if (sealed > 0) {
      db.pragma('secure_delete = OFF');
      if (!memory) db.pragma('wal_checkpoint(TRUNCATE)');
    }
  } catch (error) {
    db.close();
    throw error;
  }
  return { db, path, box };
}

/** The durability settings in force, as SQLite reports them. */
export interface DurabilitySettings {
  /** `wal` for a file database, `memory` in memory. */
  journalMode: string;
  /** 2 = FULL. */
  synchronous: number;
}

/**
 * Reads `PRAGMA journal_mode` and `PRAGMA synchronous`.
 * @param db an open connection
 */
export function durabilitySettings(db: Db): DurabilitySettings {
  return {
    journalMode: String(db.pragma('journal_mode', { simple: true })),
    synchronous: Number(db.pragma('synchronous', { simple: true })),
  };
}
