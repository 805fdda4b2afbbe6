/**
 * Registered devices: lookup by id, by public key and by identity; register, rotate, revoke.
 * @module
 */
import type { IdentityType } from '@noxy-approval/core';
import type { Db } from './db.js';

/** A device as stored. */
export interface DeviceRecord {
  deviceId: string;
  appId: string;
  identityType: IdentityType;
  identityId: string;
  publicKey: Buffer;
  pqPublicKey: Buffer;
  deviceType: string;
  /** SHA-256 of the registration signature the relay accepted (for repeated registers). */
  registrationHash: Buffer;
  registeredVia: 'secret' | 'pairing';
  registeredAt: number;
  rotatedAt: number | undefined;
  revokedAt: number | undefined;
  /**
   * True once the device registered with a proof of possession: it can never again go without.
   * Always set on records read from the store; absent on insert means false.
   */
  deviceProof?: boolean;
}

/** One announced key rotation, signed by the key it replaced (docs/protocol.md §12.2). */
export interface KeyRotationRecord {
  oldPublicKey: Buffer;
  newPublicKey: Buffer;
  newPqPublicKey: Buffer;
  rotatedAt: number;
  signature: Buffer;
}

interface DeviceRow {
  device_id: string;
  app_id: string;
  identity_type: string;
  identity_id: string;
  public_key: Buffer;
  pq_public_key: Buffer;
  device_type: string;
  registration_hash: Buffer;
  registered_via: string;
  registered_at: number;
  rotated_at: number | null;
  revoked_at: number | null;
  device_proof: number;
}

const toDevice = (r: DeviceRow): DeviceRecord => ({
  deviceId: r.device_id,
  appId: r.app_id,
  identityType: r.identity_type as IdentityType,
  identityId: r.identity_id,
  publicKey: r.public_key,
  pqPublicKey: r.pq_public_key,
  deviceType: r.device_type,
  registrationHash: r.registration_hash,
  registeredVia: r.registered_via === 'pairing' ? 'pairing' : 'secret',
  registeredAt: r.registered_at,
  rotatedAt: r.rotated_at ?? undefined,
  revokedAt: r.revoked_at ?? undefined,
  deviceProof: r.device_proof === 1,
});

/** Prepared statements over devices. */
export class DeviceStore {
  readonly #insert;
  readonly #byId;
  readonly #byKey;
  readonly #byPqKey;
  readonly #activeOfIdentity;
  readonly #rotate;
  readonly #revoke;
  readonly #counts;
  readonly #markProof;
  readonly #addRotation;
  readonly #rotations;

  constructor(db: Db) {
    this.#insert = db.prepare(
      `INSERT INTO devices (device_id, app_id, identity_type, identity_id, public_key, pq_public_key, device_type,
        registration_hash, registered_via, registered_at, device_proof) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#byId = db.prepare('SELECT * FROM devices WHERE device_id = ?');
    this.#byKey = db.prepare('SELECT * FROM devices WHERE app_id = ? AND public_key = ?');
    this.#byPqKey = db.prepare('SELECT * FROM devices WHERE app_id = ? AND pq_public_key = ?');
    this.#activeOfIdentity = db.prepare(
      'SELECT * FROM devices WHERE app_id = ? AND identity_id = ? AND revoked_at IS NULL ' +
        'ORDER BY registered_at, device_id',
    );
    this.#rotate = db.prepare(
      'UPDATE devices SET public_key = ?, pq_public_key = ?, rotated_at = ? WHERE device_id = ? AND revoked_at IS NULL',
    );
    this.#revoke = db.prepare('UPDATE devices SET revoked_at = ? WHERE device_id = ? AND revoked_at IS NULL');
    this.#markProof = db.prepare('UPDATE devices SET device_proof = 1 WHERE device_id = ?');
    this.#addRotation = db.prepare(
      `INSERT INTO device_rotations (device_id, seq, old_public_key, new_public_key, new_pq_public_key, rotated_at,
        signature) SELECT ?, COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ?, ? FROM device_rotations WHERE device_id = ?`,
    );
    this.#rotations = db.prepare('SELECT * FROM device_rotations WHERE device_id = ? ORDER BY seq');
    this.#counts = db.prepare(
      'SELECT COUNT(*) AS total, COUNT(*) FILTER (WHERE revoked_at IS NULL) AS active FROM devices',
    );
  }

  /** Inserts a device. */
  insert(d: Omit<DeviceRecord, 'rotatedAt' | 'revokedAt'>): void {
    this.#insert.run(
      d.deviceId,
      d.appId,
      d.identityType,
      d.identityId,
      d.publicKey,
      d.pqPublicKey,
      d.deviceType,
      d.registrationHash,
      d.registeredVia,
      d.registeredAt,
      d.deviceProof ? 1 : 0,
    );
  }

  /** Binds a device to proofs of possession from now on (no downgrade, docs/security.md). */
  markProof(deviceId: string): void {
    this.#markProof.run(deviceId);
  }

  /** Records an announced key rotation. */
  addRotation(deviceId: string, r: KeyRotationRecord): void {
    this.#addRotation.run(
      deviceId,
      r.oldPublicKey,
      r.newPublicKey,
      r.newPqPublicKey,
      r.rotatedAt,
      r.signature,
      deviceId,
    );
  }

  /** The device's announced key rotations, oldest first. */
  rotations(deviceId: string): KeyRotationRecord[] {
    return (
      this.#rotations.all(deviceId) as {
        old_public_key: Buffer;
        new_public_key: Buffer;
        new_pq_public_key: Buffer;
        rotated_at: number;
        signature: Buffer;
      }[]
    ).map((r) => ({
      oldPublicKey: r.old_public_key,
      newPublicKey: r.new_public_key,
      newPqPublicKey: r.new_pq_public_key,
      rotatedAt: r.rotated_at,
      signature: r.signature,
    }));
  }

  /** The device with this id (revoked or not). */
  get(deviceId: string): DeviceRecord | undefined {
    const row = this.#byId.get(deviceId) as DeviceRow | undefined;
    return row && toDevice(row);
  }

  /** The app's device with this Ed25519 public key (revoked or not). */
  byPublicKey(appId: string, publicKey: Uint8Array): DeviceRecord | undefined {
    const row = this.#byKey.get(appId, publicKey) as DeviceRow | undefined;
    return row && toDevice(row);
  }

  /** The app's device with this ML-KEM public key (revoked or not). */
  byPqPublicKey(appId: string, pqPublicKey: Uint8Array): DeviceRecord | undefined {
    const row = this.#byPqKey.get(appId, pqPublicKey) as DeviceRow | undefined;
    return row && toDevice(row);
  }

  /** Non-revoked devices of (app, identity id), oldest registration first. */
  activeOfIdentity(appId: string, identityId: string): DeviceRecord[] {
    return (this.#activeOfIdentity.all(appId, identityId) as DeviceRow[]).map(toDevice);
  }

  /** Replaces a device's keys. False when the device is unknown or revoked. */
  rotate(deviceId: string, publicKey: Uint8Array, pqPublicKey: Uint8Array, nowMs: number): boolean {
    return this.#rotate.run(publicKey, pqPublicKey, nowMs, deviceId).changes === 1;
  }

  /** Revokes a device. False when it was unknown or already revoked. */
  revoke(deviceId: string, nowMs: number): boolean {
    return this.#revoke.run(nowMs, deviceId).changes === 1;
  }

  /** Device counts for `status`. */
  counts(): { total: number; active: number } {
    return this.#counts.get() as { total: number; active: number };
  }
}
