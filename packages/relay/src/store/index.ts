/**
 * The relay store: one SQLite database (better-sqlite3) behind three small repositories.
 * All methods are synchronous; multi-step changes run inside {@link RelayStore.transaction}.
 *
 * Group commit: with `synchronous=FULL` every COMMIT waits for the disk, and better-sqlite3
 * blocks the event loop meanwhile, so one commit per request would cap the relay at the
 * disk's sync rate. Instead the changes of one event-loop turn share one transaction, and
 * every answer or delivery waits for that commit ({@link RelayStore.afterCommit}). Latency
 * grows by at most one turn; throughput under concurrency grows with the batch size.
 * @module
 */
import { AppStore } from './app-store.js';
import { Checkpointer, type CheckpointStats } from './checkpointer.js';
import { DecisionStore } from './decision-store.js';
import { DeviceStore } from './device-store.js';
import { durabilitySettings, openDatabase, type Db, type DurabilitySettings } from './db.js';
import type { SecretBox } from './secret-box.js';

/** The opened store. */
export class RelayStore {
  /** The raw connection, for inspection in tests. */
  readonly db: Db;
  /** The database file, or `':memory:'`. */
  readonly path: string;
  /** Apps, quota usage and pairing codes. */
  readonly apps: AppStore;
  /** Registered devices. */
  readonly devices: DeviceStore;
  /** Decisions, deliveries, outcomes, idempotency records and audit events. */
  readonly decisions: DecisionStore;
  #closed = false;
  #flushScheduled = false;
  // WAL checkpoints in a worker thread (checkpointer.ts); none in memory.
  readonly #checkpointer: Checkpointer | undefined;
  #waiting: Array<{ ok: () => void; fail: (error: unknown) => void }> = [];
  readonly #begin;
  readonly #commit;
  readonly #rollback;
  readonly #savepoint;
  readonly #release;
  readonly #rollbackTo;

  private constructor(db: Db, path: string, box: SecretBox) {
    this.db = db;
    this.path = path;
    this.#begin = db.prepare('BEGIN IMMEDIATE');
    this.#commit = db.prepare('COMMIT');
    this.#rollback = db.prepare('ROLLBACK');
    this.#savepoint = db.prepare('SAVEPOINT unit');
    this.#release = db.prepare('RELEASE unit');
    this.#rollbackTo = db.prepare('ROLLBACK TO unit');
    this.apps = new AppStore(db, box);
    this.devices = new DeviceStore(db);
    this.decisions = new DecisionStore(db);
    this.#checkpointer = path === ':memory:' ? undefined : new Checkpointer(db, path);
  }

  /**
   * Opens the store in `dataDir` (`<dataDir>/relay.db`, its key `<dataDir>/relay.key`) or in
   * memory for `':memory:'`.
   * @throws Error when the folder cannot be created or the database is from a newer relay
   * @throws NoxyError CRYPTO when `relay.key` is missing, malformed or not the database's key
   */
  static open(dataDir: string): RelayStore {
    const { db, path, box } = openDatabase(dataDir);
    return new RelayStore(db, path, box);
  }

  /**
   * Runs `fn` atomically inside the current group-commit batch (a SAVEPOINT of the batch's
   * `BEGIN IMMEDIATE`), opening a batch if none is open. The batch is committed — one WAL
   * sync for every change made in this event-loop turn — on the next `setImmediate`, or by
   * {@link commitNow}. Anything that tells the outside world about a change must go through
   * {@link afterCommit}, so nothing is answered or delivered before it is durable.
   * @param fn the work; throwing rolls back only this unit
   */
  transaction<T>(fn: () => T): T {
    if (!this.db.inTransaction) {
      this.#begin.run();
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => this.commitNow());
      }
    }
    // A savepoint per unit (what better-sqlite3's nested transactions do, without building a
    // wrapper function on every call).
    this.#savepoint.run();
    try {
      const result = fn();
      this.#release.run();
      return result;
    } catch (error) {
      if (this.db.inTransaction) {
        this.#rollbackTo.run();
        this.#release.run();
      }
      throw error;
    }
  }

  /**
   * Runs `ok` once everything written so far is committed (at once when nothing is pending),
   * or `fail` if that commit fails and was rolled back. Callbacks run in the order registered.
   */
  afterCommit(ok: () => void, fail: (error: unknown) => void = () => {}): void {
    if (!this.db.inTransaction) {
      ok();
      return;
    }
    this.#waiting.push({ ok, fail });
  }

  /** Commits the open batch now (fsync under synchronous=FULL) and runs the waiting callbacks. */
  commitNow(): void {
    this.#flushScheduled = false;
    const waiting = this.#waiting;
    this.#waiting = [];
    let failure: unknown;
    const committed = this.db.open && this.db.inTransaction;
    if (committed) {
      try {
        this.#commit.run();
      } catch (error) {
        failure = error ?? new Error('commit failed');
        try {
          if (this.db.inTransaction) this.#rollback.run();
        } catch {
          // The connection is unusable; every waiter is told below.
        }
      }
    }
    for (const w of waiting) {
      try {
        if (failure === undefined) w.ok();
        else w.fail(failure);
      } catch {
        // A callback writes to one client; its failure must not stop the others.
      }
    }
    // After the answers: a checkpoint request is a stat and a message, never the copy itself.
    if (committed && failure === undefined) {
      try {
        this.#checkpointer?.afterCommit();
      } catch {
        // A failed checkpoint leaves the WAL longer; the next commit asks again.
      }
    }
  }

  /** Checkpoints run by the worker thread and by the main connection (file stores). */
  checkpoints(): CheckpointStats | undefined {
    return this.#checkpointer && { ...this.#checkpointer.stats };
  }

  /** `journal_mode` and `synchronous` as SQLite reports them. */
  durability(): DurabilitySettings {
    return durabilitySettings(this.db);
  }

  /** True once {@link close} ran. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Commits what is pending, then closes the database (checkpointing the WAL). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.commitNow();
    this.#closed = true;
    this.#checkpointer?.close();
    this.db.close();
  }
}

export type { AppRecord, PairingRecord } from './app-store.js';
export type { DeviceRecord, KeyRotationRecord } from './device-store.js';
export type {
  AuditEvent,
  DecisionKey,
  DecisionRecord,
  DecisionStatus,
  DeliveryRecord,
  DeliveryStatus,
  FinalOutcome,
  OutcomeRecord,
  SignedOutcome,
} from './decision-store.js';
export { isFinal } from './decision-store.js';
export type { DurabilitySettings } from './db.js';
export type { CheckpointStats } from './checkpointer.js';
export { KEY_FILE_NAME } from './secret-box.js';
