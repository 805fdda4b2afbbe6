/**
 * Apps (token hash, sealed signing secret, quota), monthly quota usage and pairing codes.
 * The signing secret is sealed with the store's key (secret-box.ts, docs/security.md): this
 * repository seals it on insert and opens it on read, so callers only ever see the secret.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { type IdentityType, NoxyError } from '@noxy-approval/core';
import type { Db } from './db.js';
import type { SecretBox } from './secret-box.js';

/** An app as stored (the token itself is never stored). */
export interface AppRecord {
  appId: string;
  name: string;
  /** HMAC key of device registrations. Secret: never log or return it over the wire. */
  signingSecret: string;
  quotaTotal: number;
  createdAt: number;
}

/** A pairing code row. */
export interface PairingRecord {
  pairingId: string;
  appId: string;
  identityType: IdentityType;
  identityId: string;
  /** The code while unused; `undefined` once used. */
  code: string | undefined;
  createdAt: number;
  expiresAt: number;
  usedAt: number | undefined;
}

interface AppRow {
  app_id: string;
  name: string;
  signing_secret: Uint8Array | string;
  quota_total: number;
  created_at: number;
}

interface PairingRow {
  pairing_id: string;
  app_id: string;
  identity_type: string;
  identity_id: string;
  code: string | null;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

// Opens the row's sealed secret; a row that does not open (edited, copied from another app or
// another database) is refused rather than read as some other secret: fail closed.
function toApp(box: SecretBox, r: AppRow): AppRecord {
  const plain = typeof r.signing_secret === 'string' ? undefined : box.open(r.signing_secret, r.app_id);
  if (!plain)
    throw new NoxyError(
      'CRYPTO',
      `the signing secret of app ${r.app_id} in relay.db does not open with relay.key: ` +
        'restore relay.db and relay.key from the same backup, or create the app again',
      { field: 'apps.signing_secret' },
    );
  return {
    appId: r.app_id,
    name: r.name,
    signingSecret: plain.toString('utf8'),
    quotaTotal: r.quota_total,
    createdAt: r.created_at,
  };
}

const toPairing = (r: PairingRow): PairingRecord => ({
  pairingId: r.pairing_id,
  appId: r.app_id,
  identityType: r.identity_type as IdentityType,
  identityId: r.identity_id,
  code: r.code ?? undefined,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  usedAt: r.used_at ?? undefined,
});

/**
 * The `YYYY-MM` quota period (UTC) of a clock reading.
 * @param nowMs ms since epoch
 */
export function quotaPeriod(nowMs: number): string {
  return new Date(nowMs).toISOString().slice(0, 7);
}

/** Prepared statements over apps, quota usage and pairings. */
export class AppStore {
  readonly #insert;
  readonly #byId;
  readonly #byTokenHash;
  readonly #list;
  readonly #usage;
  readonly #countUse;
  readonly #insertPairing;
  readonly #openPairings;
  readonly #usePairing;
  readonly #pairingById;
  readonly #box: SecretBox;

  /**
   * @param db the connection
   * @param box the store's key, which seals and opens `apps.signing_secret`
   */
  constructor(db: Db, box: SecretBox) {
    this.#box = box;
    this.#insert = db.prepare(
      'INSERT INTO apps (app_id, name, token_hash, signing_secret, quota_total, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.#byId = db.prepare('SELECT * FROM apps WHERE app_id = ?');
    this.#byTokenHash = db.prepare('SELECT * FROM apps WHERE token_hash = ?');
    this.#list = db.prepare('SELECT * FROM apps ORDER BY created_at, app_id');
    this.#usage = db.prepare('SELECT used FROM quota_usage WHERE app_id = ? AND period = ?').pluck();
    this.#countUse = db.prepare(
      'INSERT INTO quota_usage (app_id, period, used) VALUES (?, ?, 1) ' +
        'ON CONFLICT (app_id, period) DO UPDATE SET used = used + 1',
    );
    this.#insertPairing = db.prepare(
      `INSERT INTO pairings (pairing_id, app_id, identity_type, identity_id, code, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#openPairings = db.prepare(
      `SELECT * FROM pairings WHERE app_id = ? AND identity_id = ? AND identity_type = ?
       AND used_at IS NULL AND expires_at > ? ORDER BY created_at`,
    );
    this.#usePairing = db.prepare(
      'UPDATE pairings SET used_at = ?, used_by = ?, code = NULL WHERE pairing_id = ? AND used_at IS NULL',
    );
    this.#pairingById = db.prepare('SELECT * FROM pairings WHERE pairing_id = ?');
  }

  /** Inserts an app. `tokenHash` is the SHA-256 of its token. */
  insert(app: AppRecord, tokenHash: Uint8Array): void {
    const sealed = this.#box.seal(Buffer.from(app.signingSecret, 'utf8'), app.appId);
    this.#insert.run(app.appId, app.name, tokenHash, sealed, app.quotaTotal, app.createdAt);
  }

  /** The app with this id, if any. */
  get(appId: string): AppRecord | undefined {
    const row = this.#byId.get(appId) as AppRow | undefined;
    return row && toApp(this.#box, row);
  }

  /** The app whose token hashes to `tokenHash`, if any. */
  byTokenHash(tokenHash: Uint8Array): AppRecord | undefined {
    const row = this.#byTokenHash.get(tokenHash) as AppRow | undefined;
    return row && toApp(this.#box, row);
  }

  /** Every app, oldest first. */
  list(): AppRecord[] {
    return (this.#list.all() as AppRow[]).map((r) => toApp(this.#box, r));
  }

  /** Decisions counted against the app in the month of `nowMs`. */
  quotaUsed(appId: string, nowMs: number): number {
    return (this.#usage.get(appId, quotaPeriod(nowMs)) as number | undefined) ?? 0;
  }

  /** Counts one decision against the app's quota for the month of `nowMs`. */
  countDecision(appId: string, nowMs: number): void {
    this.#countUse.run(appId, quotaPeriod(nowMs));
  }

  /** Stores a new pairing code; returns its id. */
  insertPairing(p: Omit<PairingRecord, 'pairingId' | 'usedAt'> & { code: string }): string {
    const pairingId = randomUUID();
    this.#insertPairing.run(pairingId, p.appId, p.identityType, p.identityId, p.code, p.createdAt, p.expiresAt);
    return pairingId;
  }

  /** Unused, unexpired pairings of (app, identity) at `nowMs`. */
  openPairings(appId: string, identityType: IdentityType, identityId: string, nowMs: number): PairingRecord[] {
    return (this.#openPairings.all(appId, identityId, identityType, nowMs) as PairingRow[]).map(toPairing);
  }

  /** Marks a pairing used (and forgets its code). False when it was already used. */
  usePairing(pairingId: string, deviceId: string, nowMs: number): boolean {
    return this.#usePairing.run(nowMs, deviceId, pairingId).changes === 1;
  }

  /** A pairing by id. */
  pairing(pairingId: string): PairingRecord | undefined {
    const row = this.#pairingById.get(pairingId) as PairingRow | undefined;
    return row && toPairing(row);
  }
}
