import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NoxyError } from '@noxy-approval/core';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { DB_FILE_NAME, SCHEMA_VERSION } from './db.js';
import { KEY_FILE_NAME, RelayStore } from './index.js';
import { SecretBox } from './secret-box.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const newDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'noxy-relay-sealed-'));
  dirs.push(dir);
  return dir;
};

const SECRET_A = `noxy_sec_PLAINA${'a1b2c3'.repeat(6)}`;
const SECRET_B = `noxy_sec_PLAINB${'d4e5f6'.repeat(6)}`;

// The apps table and version as a v2 relay left them: secrets in clear.
const V2 = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
INSERT INTO meta VALUES ('schema_version', '2');
CREATE TABLE apps (
  app_id TEXT PRIMARY KEY, name TEXT NOT NULL, token_hash BLOB NOT NULL UNIQUE,
  signing_secret TEXT NOT NULL, quota_total INTEGER NOT NULL, created_at INTEGER NOT NULL
);
INSERT INTO apps VALUES ('app-a', 'a', x'01', '${SECRET_A}', 100, 1000);
INSERT INTO apps VALUES ('app-b', 'b', x'02', '${SECRET_B}', 100, 2000);
`;

/** Every file of the folder, as latin1 text, joined. */
const folderText = (dir: string): string =>
  readdirSync(dir)
    .map((n) => readFileSync(join(dir, n)).toString('latin1'))
    .join('\n');

const app = (appId: string, signingSecret: string) => ({
  appId,
  name: appId,
  signingSecret,
  quotaTotal: 10,
  createdAt: 1,
});

function expectKeyError(dir: string, pattern: RegExp): void {
  let caught: unknown;
  try {
    RelayStore.open(dir).close();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(NoxyError);
  const e = caught as NoxyError;
  expect(e.code).toBe('CRYPTO');
  expect(e.message).toContain(join(dir, KEY_FILE_NAME));
  expect(e.message).toMatch(pattern);
  expect(e.message).toMatch(/restore relay\.key/);
}

describe('signing secrets sealed at rest (schema v3)', () => {
  it('a new folder gets relay.key (0600); relay.db and its WAL never hold the secret', () => {
    const dir = newDir();
    const store = RelayStore.open(dir);
    store.apps.insert(app('app-1', SECRET_A), Buffer.of(1));
    expect(store.apps.get('app-1')?.signingSecret).toBe(SECRET_A);
    // Uncheckpointed: the WAL holds the new row.
    expect(folderText(dir)).not.toContain(SECRET_A);
    store.close();
    const key = join(dir, KEY_FILE_NAME);
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect(readFileSync(key, 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
    expect(folderText(dir)).not.toContain(SECRET_A);
    const reopened = RelayStore.open(dir);
    expect(reopened.apps.list().map((a) => a.signingSecret)).toEqual([SECRET_A]);
    reopened.close();
  });

  it('migrates a v2 database: clear secrets sealed, no clear copy left in any file, idempotent', () => {
    const dir = newDir();
    const v2 = new Database(join(dir, DB_FILE_NAME));
    v2.pragma('journal_mode = WAL');
    v2.exec(V2);
    v2.close();
    expect(readFileSync(join(dir, DB_FILE_NAME)).toString('latin1')).toContain(SECRET_A);
    expect(existsSync(join(dir, KEY_FILE_NAME))).toBe(false);

    const store = RelayStore.open(dir);
    expect(store.apps.get('app-a')?.signingSecret).toBe(SECRET_A);
    expect(store.apps.get('app-b')?.signingSecret).toBe(SECRET_B);
    const types = store.db.prepare('SELECT typeof(signing_secret) FROM apps').pluck().all();
    expect(types).toEqual(['blob', 'blob']);
    store.close();
    const text = folderText(dir);
    expect(text).not.toContain(SECRET_A);
    expect(text).not.toContain(SECRET_B);

    // Again: nothing changes, the same key opens the same rows.
    const key = readFileSync(join(dir, KEY_FILE_NAME), 'utf8');
    const again = RelayStore.open(dir);
    expect(again.apps.list().map((a) => a.signingSecret)).toEqual([SECRET_A, SECRET_B]);
    expect(again.db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get()).toBe(
      String(SCHEMA_VERSION),
    );
    again.close();
    expect(readFileSync(join(dir, KEY_FILE_NAME), 'utf8')).toBe(key);
  });

  it('a missing relay.key for an existing database is refused, and no new key is made', () => {
    const dir = newDir();
    const store = RelayStore.open(dir);
    store.apps.insert(app('app-1', SECRET_A), Buffer.of(1));
    store.close();
    rmSync(join(dir, KEY_FILE_NAME));
    expectKeyError(dir, /is missing/);
    expect(existsSync(join(dir, KEY_FILE_NAME))).toBe(false);
  });

  it('an existing database with no apps still refuses a missing key (it is bound to one)', () => {
    const dir = newDir();
    RelayStore.open(dir).close();
    rmSync(join(dir, KEY_FILE_NAME));
    expectKeyError(dir, /is missing/);
  });

  it('a different or malformed relay.key is refused, naming the file and the fix', () => {
    const dir = newDir();
    const store = RelayStore.open(dir);
    store.apps.insert(app('app-1', SECRET_A), Buffer.of(1));
    store.close();
    const keyFile = join(dir, KEY_FILE_NAME);
    const good = readFileSync(keyFile, 'utf8');
    writeFileSync(keyFile, `${'ab'.repeat(32)}\n`, { mode: 0o600 });
    expectKeyError(dir, /is not the key .*relay\.db was sealed under/);
    writeFileSync(keyFile, 'not a key\n', { mode: 0o600 });
    expectKeyError(dir, /is not a relay key/);
    // The right key opens it again: nothing was changed by the refusals.
    writeFileSync(keyFile, good, { mode: 0o600 });
    const back = RelayStore.open(dir);
    expect(back.apps.get('app-1')?.signingSecret).toBe(SECRET_A);
    back.close();
  });

  it('a sealed secret moved to another app does not open (app id bound as associated data)', () => {
    const store = RelayStore.open(':memory:');
    try {
      store.apps.insert(app('app-1', SECRET_A), Buffer.of(1));
      store.apps.insert(app('app-2', SECRET_B), Buffer.of(2));
      store.db.exec(
        "UPDATE apps SET signing_secret = (SELECT signing_secret FROM apps WHERE app_id = 'app-1') " +
          "WHERE app_id = 'app-2'",
      );
      expect(store.apps.get('app-1')?.signingSecret).toBe(SECRET_A);
      expect(() => store.apps.get('app-2')).toThrow(/app app-2 .*does not open with relay\.key/);
    } finally {
      store.close();
    }
  });

  it('SecretBox: opens its own seal only, with the same aad, and detects any changed byte', () => {
    const box = SecretBox.random();
    const sealed = box.seal(Buffer.from('s3cret'), 'app-1');
    expect(box.open(sealed, 'app-1')?.toString()).toBe('s3cret');
    expect(box.open(sealed, 'app-2')).toBeUndefined();
    expect(SecretBox.random().open(sealed, 'app-1')).toBeUndefined();
    for (let i = 0; i < sealed.length; i++) {
      const bad = Buffer.from(sealed);
      bad[i] = (bad[i] as number) ^ 1;
      expect(box.open(bad, 'app-1')).toBeUndefined();
    }
    expect(box.matches(box.keyCheck())).toBe(true);
    expect(SecretBox.random().matches(box.keyCheck())).toBe(false);
  });
});
